/**
 * The GPU test helper: one shared device per test file. Tests are skipped (ignored) when there is no WebGPU
 * adapter, but fail when `REQUIRE_GPU=1`, so CI can never pass by skipping.
 *
 * @module
 */
import { type Gpu, type GpuOptions, requestGpu } from "../../src/gpu/device.ts";
import { NoAdapterError } from "../../src/gpu/errors.ts";

const requireGpu = Deno.env.get("REQUIRE_GPU") === "1";
let shared: Promise<Gpu | null> | null = null;

async function tryGpu(options?: GpuOptions): Promise<Gpu | null> {
  try {
    return await requestGpu(options);
  } catch (e) {
    if (e instanceof NoAdapterError && !requireGpu) return null;
    throw e;
  }
}

/** The shared device, or null when there is no adapter and REQUIRE_GPU is not set. */
export function testGpu(): Promise<Gpu | null> {
  shared ??= tryGpu();
  return shared;
}

/** Whether this process has an adapter (top-level await in test files). */
export const hasGpu: boolean = requireGpu || (await testGpu()) !== null;

/**
 * Whether the shared device is a real GPU. The software-only kernel variants that generate very long shaders
 * (the packed-texture matmul, LayerNorm's row-block backward) are not run there: on an NVIDIA H200 compiling
 * them lost the device (2026-11-27), and a hardware adapter never picks them.
 */
export const onHardware: boolean = hasGpu &&
  (await testGpu().catch(() => null))?.description.kind === "hardware";

/**
 * Registers a test that gets the shared device; ignored without an adapter unless REQUIRE_GPU=1, or where
 * `options.ignore` says so (e.g. a software-only variant on a real GPU, see {@linkcode onHardware}).
 */
export function gpuTest(
  name: string,
  fn: (gpu: Gpu, t: Deno.TestContext) => Promise<void> | void,
  options: { ignore?: boolean } = {},
): void {
  Deno.test({
    name,
    ignore: !hasGpu || (options.ignore ?? false),
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const gpu = await testGpu();
      if (!gpu) throw new NoAdapterError("REQUIRE_GPU=1 but no adapter was found");
      await fn(gpu, t);
      gpu.check(name);
    },
  });
}

/** A separate device with options (e.g. a forced low binding limit), destroyed after the test. */
export async function withGpu<T>(options: GpuOptions, fn: (gpu: Gpu) => Promise<T>): Promise<T> {
  const gpu = await tryGpu(options);
  if (!gpu) throw new NoAdapterError("no adapter");
  try {
    return await fn(gpu);
  } finally {
    gpu.destroy();
  }
}
