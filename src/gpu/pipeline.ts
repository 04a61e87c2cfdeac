/**
 * Compute pipelines, compiled once per shader and constants, with explicit bind-group layouts whose access
 * (uniform, read-only storage, read-write storage) is declared by the kernel's wrapper.
 *
 * @module
 */
import type { Gpu } from "./device.ts";
import { type CompileMessage, GpuValidationError, ShaderCompileError } from "./errors.ts";

/**
 * Access of one binding, in binding order. A `uniform` binding, if any, is the last. `texture` is a sampled 2D
 * float texture read with `textureLoad`.
 */
export type Access = "uniform" | "read" | "read_write" | "texture";

/** A WGSL shader with the layout of its bindings (group 0, bindings 0..n-1). */
export interface KernelSource {
  /** File name, used in compile errors and as the cache key, e.g. `matmul_forward.wgsl`. */
  file: string;
  code: string;
  bindings: readonly Access[];
  entryPoint?: string;
}

/** Override constants substituted at pipeline creation (WGSL `override` declarations). */
export type Constants = Record<string, number>;

/** A compiled pipeline and its bind-group layout. */
export class Kernel {
  constructor(
    readonly source: KernelSource,
    readonly constants: Constants,
    readonly pipeline: GPUComputePipeline,
    readonly layout: GPUBindGroupLayout,
  ) {}

  get name(): string {
    const c = Object.entries(this.constants).map(([k, v]) => `${k}=${v}`).join(",");
    return c ? `${this.source.file}[${c}]` : this.source.file;
  }
}

function layoutEntry(access: Access, binding: number): GPUBindGroupLayoutEntry {
  const visibility = GPUShaderStage.COMPUTE;
  switch (access) {
    case "texture":
      return { binding, visibility, texture: { sampleType: "unfilterable-float", viewDimension: "2d" } };
    case "uniform":
      return { binding, visibility, buffer: { type: "uniform" } };
    case "read":
      return { binding, visibility, buffer: { type: "read-only-storage" } };
    case "read_write":
      return { binding, visibility, buffer: { type: "storage" } };
  }
}

/** One compile per shader + entry point + constants, per device. */
export class PipelineCache {
  #kernels = new Map<string, Promise<Kernel>>();
  #modules = new Map<string, Promise<GPUShaderModule>>();
  constructor(private readonly gpu: Gpu) {}

  /** Number of pipelines compiled so far. */
  get size(): number {
    return this.#kernels.size;
  }

  /** Returns the cached kernel, compiling it on first use. */
  get(source: KernelSource, constants: Constants = {}): Promise<Kernel> {
    const key = `${source.file}#${source.entryPoint ?? "main"}#${JSON.stringify(constants)}`;
    let kernel = this.#kernels.get(key);
    if (!kernel) {
      kernel = this.#compile(source, constants);
      kernel.catch(() => this.#kernels.delete(key));
      this.#kernels.set(key, kernel);
    }
    return kernel;
  }

  #module(source: KernelSource): Promise<GPUShaderModule> {
    let mod = this.#modules.get(source.file);
    if (!mod) {
      mod = compileModule(this.gpu.device, source);
      mod.catch(() => this.#modules.delete(source.file));
      this.#modules.set(source.file, mod);
    }
    return mod;
  }

  async #compile(source: KernelSource, constants: Constants): Promise<Kernel> {
    this.gpu.check(`before compiling ${source.file}`);
    const device = this.gpu.device;
    const module = await this.#module(source);
    const uniformAt = source.bindings.indexOf("uniform");
    if (uniformAt >= 0 && uniformAt !== source.bindings.length - 1) {
      throw new GpuValidationError(source.file, "the uniform binding must be the last binding");
    }
    device.pushErrorScope("validation");
    const layout = device.createBindGroupLayout({
      label: source.file,
      entries: source.bindings.map(layoutEntry),
    });
    let pipeline: GPUComputePipeline;
    try {
      pipeline = await device.createComputePipelineAsync({
        label: source.file,
        layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: source.entryPoint ?? "main", constants },
      });
    } catch (e) {
      await device.popErrorScope();
      throw new GpuValidationError(`pipeline ${source.file}`, (e as Error).message);
    }
    const err = await device.popErrorScope();
    if (err) throw new GpuValidationError(`pipeline ${source.file}`, err.message);
    return new Kernel(source, constants, pipeline, layout);
  }
}

async function compileModule(device: GPUDevice, source: KernelSource): Promise<GPUShaderModule> {
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ label: source.file, code: source.code });
  const info = await module.getCompilationInfo();
  const scoped = await device.popErrorScope();
  const messages: CompileMessage[] = info.messages.filter((m) => m.type === "error").map((m) => ({
    type: m.type,
    line: m.lineNum,
    column: m.linePos,
    message: m.message,
  }));
  if (messages.length > 0) throw new ShaderCompileError(source.file, messages, source.code);
  if (scoped) throw new ShaderCompileError(source.file, [parseNagaMessage(scoped.message)], source.code);
  return module;
}

/** Extracts `wgsl:LINE:COL` from a naga message reported through an error scope. */
function parseNagaMessage(message: string): CompileMessage {
  const m = /wgsl:(\d+):(\d+)/.exec(message);
  return { type: "error", line: m ? +m[1] : 0, column: m ? +m[2] : 0, message };
}
