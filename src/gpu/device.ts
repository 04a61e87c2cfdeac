/**
 * Device acquisition: the adapter's maxima of the limits a training run needs, the optional features it can
 * use, device-loss tracking and a description of the adapter for logs and benchmark reports.
 *
 * @module
 */
import { DeviceLostError, GpuValidationError, NoAdapterError } from "./errors.ts";
import { PipelineCache } from "./pipeline.ts";
import { BufferPool } from "./pool.ts";

/** Limits a training run wants as high as the adapter allows. */
const WANTED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
  "maxBindGroups",
  "maxUniformBufferBindingSize",
  "maxTextureDimension2D",
] as const;

const OPTIONAL_FEATURES = ["shader-f16", "timestamp-query", "subgroups"] as const;

/** `software` for a fallback adapter such as Mesa's llvmpipe, else `hardware`. */
export type AdapterKind = "software" | "hardware";

/** What an adapter is, for logs and benchmark reports. */
export interface AdapterDescription {
  /** The driver's description, e.g. `llvmpipe (LLVM 15.0.6, 256 bits)`. */
  name: string;
  vendor: string;
  architecture: string;
  /** `software` for a fallback adapter such as Mesa's llvmpipe, else `hardware`. */
  kind: AdapterKind;
  features: string[];
  limits: Record<string, number>;
}

/** Options of {@linkcode requestGpu}. */
export interface GpuOptions {
  powerPreference?: GPUPowerPreference;
  /**
   * Caps the bytes of one storage binding below the device's limit, so that tests exercise the split-binding
   * paths of large tensors on a small model.
   */
  maxBindingBytes?: number;
  /**
   * Which kernel variants (tilings, layouts) to choose: those for the adapter's own kind unless forced. Tests
   * force `hardware` on llvmpipe to run the GPU variants everywhere; for {@linkcode requestGpu}, the environment
   * variable `ADDROP_KERNELS` (`software` or `hardware`) does the same for a whole process when env access is
   * granted.
   */
  kernels?: AdapterKind;
}

/** Bytes of tensors allocated through {@linkcode createTensor}: now and the peak since the last reset. */
export class MemoryCounter {
  current = 0;
  peak = 0;
  allocate(bytes: number): void {
    this.current += bytes;
    this.peak = Math.max(this.peak, this.current);
  }
  free(bytes: number): void {
    this.current -= bytes;
  }
  /** Starts a new peak measurement from the current level. */
  resetPeak(): void {
    this.peak = this.current;
  }
}

/** A WebGPU device with the runtime's shared state: pipeline cache, buffer pool and loss tracking. */
export class Gpu {
  /** Largest byte size of one storage binding the kernels may use (alignment-rounded). */
  readonly maxBindingBytes: number;
  readonly pipelines: PipelineCache;
  readonly pool: BufferPool;
  /** Tensor memory accounting (benchmarks report the peak a step allocates). */
  readonly memory: MemoryCounter = new MemoryCounter();
  /** The kind of adapter the kernels are chosen for (see {@linkcode GpuOptions.kernels}). */
  readonly kernels: AdapterKind;
  /** Set once the device is lost; every later operation throws it. */
  lost: DeviceLostError | null = null;
  #uncaptured: string[] = [];

  constructor(
    readonly adapter: GPUAdapter,
    readonly device: GPUDevice,
    readonly description: AdapterDescription,
    options: GpuOptions = {},
  ) {
    this.kernels = options.kernels ?? description.kind;
    const align = device.limits.minStorageBufferOffsetAlignment;
    const cap = Math.min(options.maxBindingBytes ?? Infinity, device.limits.maxStorageBufferBindingSize);
    this.maxBindingBytes = Math.max(align, Math.floor(cap / align) * align);
    this.pipelines = new PipelineCache(this);
    this.pool = new BufferPool(this);
    device.lost.then((info) => {
      if (info.reason !== "destroyed") {
        this.lost = new DeviceLostError(info.reason ?? "unknown", info.message);
      }
    });
    device.addEventListener("uncapturederror", (ev) => {
      this.#uncaptured.push((ev as GPUUncapturedErrorEvent).error.message);
    });
  }

  /** True when the adapter supports `shader-f16`. */
  get hasF16(): boolean {
    return this.device.features.has("shader-f16");
  }

  /** True when the adapter supports `timestamp-query`. */
  get hasTimestamps(): boolean {
    return this.device.features.has("timestamp-query");
  }

  /**
   * True on a software (fallback) adapter such as llvmpipe, or when software kernels are forced: kernels pick
   * CPU-friendly tilings then.
   */
  get isSoftware(): boolean {
    return this.kernels === "software";
  }

  /** Throws if the device was lost or an uncaptured validation error was reported since the last check. */
  check(what = "GPU work"): void {
    if (this.lost) throw this.lost;
    if (this.#uncaptured.length > 0) {
      const msg = this.#uncaptured.splice(0).join("\n");
      throw new GpuValidationError(what, msg);
    }
  }

  /** Waits until every submitted command has finished, then {@linkcode Gpu.check}s. */
  async sync(what = "GPU work"): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.check(what);
  }

  /** Frees the pool and destroys the device. */
  destroy(): void {
    this.pool.clear();
    this.device.destroy();
  }
}

/** `ADDROP_KERNELS` when set and readable (no prompt: unread without `--allow-env`). */
function kernelsFromEnv(): AdapterKind | undefined {
  const variable = "ADDROP_KERNELS";
  if (
    typeof Deno === "undefined" || Deno.permissions.querySync({ name: "env", variable }).state !== "granted"
  ) {
    return undefined;
  }
  const value = Deno.env.get(variable);
  if (value === undefined || value === "") return undefined;
  if (value !== "software" && value !== "hardware") {
    throw new RangeError(`${variable}: expected "software" or "hardware", got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Describes an adapter: name, kind, features and limits. */
export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info;
  const limits: Record<string, number> = {};
  const src = adapter.limits as unknown as Record<string, number>;
  for (const key in src) if (typeof src[key] === "number") limits[key] = src[key];
  const fallback = (info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  return {
    name: info.description || info.device || info.vendor || "unknown adapter",
    vendor: info.vendor,
    architecture: info.architecture,
    kind: fallback || /llvmpipe|lavapipe|swiftshader|warp/i.test(info.description) ? "software" : "hardware",
    features: [...adapter.features].sort(),
    limits,
  };
}

/**
 * Requests an adapter and a device with the adapter's maxima of the limits a training run needs and the
 * optional features it offers (`shader-f16`, `timestamp-query`, `subgroups`).
 *
 * @example
 * ```ts
 * import { requestGpu } from "./mod.ts";
 * const gpu = await requestGpu();
 * console.log(gpu.description.name);
 * gpu.destroy();
 * ```
 */
export async function requestGpu(options: GpuOptions = {}): Promise<Gpu> {
  if (typeof navigator === "undefined" || !("gpu" in navigator) || !navigator.gpu) {
    throw new NoAdapterError("navigator.gpu is not available in this runtime");
  }
  options = { ...options, kernels: options.kernels ?? kernelsFromEnv() };
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: options.powerPreference });
  if (!adapter) throw new NoAdapterError("navigator.gpu.requestAdapter() returned null");
  const requiredLimits: Record<string, number> = {};
  const have = adapter.limits as unknown as Record<string, number>;
  for (const key of WANTED_LIMITS) if (typeof have[key] === "number") requiredLimits[key] = have[key];
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  return new Gpu(adapter, device, describeAdapter(adapter), options);
}
