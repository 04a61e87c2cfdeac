/**
 * Typed WebGPU errors, each with a message a user can act on.
 *
 * @module
 */

/** Base class of every error raised by the WebGPU runtime. */
export class GpuError extends Error {
  override name = "GpuError";
}

/** Raised when `navigator.gpu` is missing or no adapter is offered. */
export class NoAdapterError extends GpuError {
  override name = "NoAdapterError";
  constructor(detail: string) {
    super(
      `no WebGPU adapter: ${detail}. addrop needs any WebGPU adapter (Vulkan, Metal or D3D12). ` +
        "On Linux without a GPU install Mesa's software drivers (Debian/Ubuntu: `apt-get install " +
        "mesa-vulkan-drivers`), which run every kernel on the CPU, slowly.",
    );
  }
}

/** Raised when the device was lost (driver reset, out of memory in the driver, destroyed). */
export class DeviceLostError extends GpuError {
  override name = "DeviceLostError";
  constructor(readonly reason: string, readonly detail: string) {
    super(`WebGPU device lost (${reason}): ${detail || "no detail given by the driver"}`);
  }
}

/** Raised when an allocation fails or exceeds the device's limits. */
export class OutOfMemoryError extends GpuError {
  override name = "OutOfMemoryError";
  constructor(readonly label: string, readonly requestedBytes: number, readonly limitBytes: number) {
    super(
      `out of GPU memory allocating '${label}': requested ${formatBytes(requestedBytes)} ` +
        `(limit ${formatBytes(limitBytes)}). Use a smaller --batch-size or --max-length.`,
    );
  }
}

/** One message of the shader compiler. */
export interface CompileMessage {
  type: string;
  line: number;
  column: number;
  message: string;
}

/** Raised when a WGSL shader fails to compile; lists the compiler's messages with line numbers. */
export class ShaderCompileError extends GpuError {
  override name = "ShaderCompileError";
  constructor(readonly file: string, readonly messages: CompileMessage[], source: string) {
    const lines = source.split("\n");
    const text = messages.map((m) => {
      const src = lines[m.line - 1] ?? "";
      return `${file}:${m.line}:${m.column}: ${m.type}: ${m.message.trim()}\n    ${src.trim()}`;
    }).join("\n");
    super(`shader ${file} failed to compile:\n${text}`);
  }
}

/** Raised when WebGPU reports a validation error (a bug in a kernel wrapper or bad shapes). */
export class GpuValidationError extends GpuError {
  override name = "GpuValidationError";
  constructor(readonly what: string, message: string) {
    super(`WebGPU validation error in ${what}: ${message}`);
  }
}

/** Formats a byte count for messages, e.g. `154.2 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
