/**
 * Threads for the wasm kernels: workers that instantiate the same module on the same shared
 * memory and run their part of a kernel when the main thread posts a job.
 *
 * Protocol (all through one Int32Array control block in the shared memory, no messages per job):
 *   ctl[GEN]      job generation; the main thread bumps it and notifies to start a job
 *   ctl[PENDING]  workers still busy with the current job; the last one notifies
 *   ctl[KERNEL]   index of the kernel (into the name list sent at start-up)
 *   ctl[NTASKS]   number of parts; worker w runs part w + 1, the main thread part 0
 *   ctl[READY]    workers that finished start-up
 *   ctl[JOBGEN]   the generation the descriptors belong to (a worker that wakes late for an
 *                 older generation must not run a newer job twice)
 *   f64 args      from byte ARGS of the block
 * A kernel called this way takes the job's arguments followed by (task, ntasks), so splitting the
 * work is the kernel's own business and results do not depend on timing (only on ntasks).
 */
import { internal } from '../../errors.js';

export const GEN = 0;
export const PENDING = 1;
export const KERNEL = 2;
export const NTASKS = 3;
export const READY = 4;
export const STOP = 5;
/** Nonzero: the task number of a worker whose kernel trapped (the main thread throws). */
export const FAILED = 7;
/** The generation the descriptors in KERNEL/NTASKS/args belong to. */
export const JOBGEN = 6;
/** Byte offset of the f64 argument slots in the control block. */
export const ARGS = 64;
export const MAX_ARGS = 24;
/** Bytes of the control block. */
export const CONTROL_BYTES = ARGS + 8 * MAX_ARGS;

/** What a worker receives at start-up. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: number;
  kernels: string[];
  /** Iterations to spin before sleeping while waiting for a job (0 when threads outnumber cores). */
  spin: number;
}

/** A started worker, whatever the platform. */
export interface WorkerHandle {
  terminate(): void;
}

/** Starts a worker running src/ndarray/wasm/worker.ts with `init` (platform specific). */
export type SpawnWorker = (init: WorkerInit) => WorkerHandle;

type KernelFn = (...args: number[]) => unknown;

/** Runs kernels split over the main thread and `threads - 1` workers. */
export class ThreadPool {
  readonly threads: number;
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;
  private readonly ids = new Map<string, number>();
  private readonly workers: WorkerHandle[] = [];
  private readonly mainSpin: number;
  /** Whether Atomics.wait may block this thread (not on a browser's main thread). */
  private readonly canWait: boolean;

  constructor(
    private readonly exports: Record<string, unknown>,
    memory: WebAssembly.Memory,
    control: number,
    threads: number,
    module: WebAssembly.Module,
    spawn: SpawnWorker | undefined,
    /** Cores available: with more threads than cores, spinning only steals them, so nobody spins. */
    cores = Infinity,
  ) {
    const buf = memory.buffer as unknown as SharedArrayBuffer;
    this.ctl = new Int32Array(buf, control, ARGS / 4);
    this.args = new Float64Array(buf, control + ARGS, MAX_ARGS);
    const kernels = Object.keys(exports).filter((k) => typeof exports[k] === 'function');
    kernels.forEach((k, i) => this.ids.set(k, i));
    this.threads = spawn ? Math.max(1, threads) : 1;
    this.canWait = typeof (globalThis as { window?: unknown }).window === 'undefined';
    const spin = this.threads <= cores ? 300_000 : 0;
    this.mainSpin = this.threads <= cores ? 100_000 : 100;
    for (let w = 0; w < this.threads - 1; w++) this.workers.push(spawn!({ module, memory, control, kernels, spin }));
  }

  /** Workers that are ready to take parts of a job (start-up is asynchronous). */
  get ready(): number {
    if (this.workers.length === 0) return 0; // (and no view of a plain memory that may have grown)
    return Math.min(Atomics.load(this.ctl, READY), this.workers.length);
  }

  /**
   * Runs kernel `name` with `args` + (task, ntasks) for every task in [0, ntasks), on up to
   * `threads` threads. `parts` caps the number of tasks (use 1 for small work).
   */
  run(name: string, args: readonly number[], parts = this.threads): void {
    const fn = this.exports[name] as KernelFn | undefined;
    if (typeof fn !== 'function') throw internal(`wasm kernel ${name} is missing`);
    const n = Math.min(parts, 1 + this.ready);
    if (n <= 1) {
      fn(...args, 0, 1);
      return;
    }
    if (args.length > MAX_ARGS) throw internal(`wasm kernel ${name}: at most ${MAX_ARGS} arguments for threads, got ${args.length}`);
    const ctl = this.ctl;
    Atomics.store(ctl, JOBGEN, -1); // descriptors in flux (a seqlock with the check in serveJobs)
    this.args.set(args);
    ctl[KERNEL] = this.ids.get(name)!;
    ctl[NTASKS] = n;
    Atomics.store(ctl, PENDING, n - 1);
    Atomics.store(ctl, JOBGEN, ctl[GEN]! + 1);
    Atomics.add(ctl, GEN, 1);
    Atomics.notify(ctl, GEN);
    let mainError: unknown = null;
    try {
      fn(...args, 0, n);
    } catch (e) {
      mainError = e; // still wait: the next job must not start while workers run this one
    }
    // wait for the workers: spin (they are usually done, and waking this thread from a futex
    // costs ~100 us on the machines measured), then sleep
    let since = 0;
    for (let spin = 0; Atomics.load(ctl, PENDING) !== 0; spin++) {
      if (spin > this.mainSpin && this.canWait) {
        const p = Atomics.load(ctl, PENDING);
        if (p !== 0) Atomics.wait(ctl, PENDING, p, 5);
        // a worker that never finishes is a bug: fail loudly instead of hanging the process
        if (since === 0) since = performance.now();
        else if (performance.now() - since > 120_000) throw internal(`wasm thread pool: ${Atomics.load(ctl, PENDING)} worker(s) did not finish kernel ${name} within 120 s`);
      }
    }
    const failed = Atomics.exchange(ctl, FAILED, 0);
    if (mainError !== null) throw mainError;
    if (failed !== 0) throw internal(`wasm kernel ${name} trapped in worker task ${failed}`);
  }

  /** Stops the workers. */
  terminate(): void {
    Atomics.store(this.ctl, STOP, 1);
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}

/**
 * The worker side: instantiates the module on the shared memory and serves jobs until STOP.
 * Called by worker.ts on each platform.
 */
export function serveJobs(init: WorkerInit): void {
  const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory, abort: () => { throw new Error('wasm abort'); } } });
  const ex = instance.exports as Record<string, KernelFn>;
  const fns = init.kernels.map((k) => ex[k]!);
  const buf = init.memory.buffer as unknown as SharedArrayBuffer;
  const ctl = new Int32Array(buf, init.control, ARGS / 4);
  const args = new Float64Array(buf, init.control + ARGS, MAX_ARGS);
  // the task number comes from the order of readiness, not the spawn order: the main thread
  // splits a job over the first `ready` workers, so with workers 0 and 1 started and worker 2
  // not, a job of 3 tasks must go to the two started ones (a worker that starts later reads the
  // generation first, so it can only take part in jobs posted after it counted itself ready)
  let gen = Atomics.load(ctl, GEN);
  const task = Atomics.add(ctl, READY, 1) + 1;
  let lastRun = -1;
  const scratch = new Array<number>(MAX_ARGS + 2);
  for (;;) {
    // spin before sleeping (a few hundred us): jobs come in bursts separated by the JavaScript
    // of autograd, and a wake-up from Atomics.wait costs ~100 us, more than most jobs take
    let spins = 0;
    while (Atomics.load(ctl, GEN) === gen && spins < init.spin) spins++;
    if (Atomics.load(ctl, GEN) === gen) Atomics.wait(ctl, GEN, gen);
    gen = Atomics.load(ctl, GEN);
    if (Atomics.load(ctl, STOP)) return;
    // a job is run at most once per worker, whatever woke it (a second run would decrement
    // PENDING twice: a counter at -1 was seen once under the every-kernel-split stress run)
    if (gen === lastRun || Atomics.load(ctl, JOBGEN) !== gen) continue;
    const ntasks = ctl[NTASKS]!;
    const fn = fns[ctl[KERNEL]!];
    if (fn === undefined) continue;
    const nargs = fn.length - 2;
    for (let i = 0; i < nargs; i++) scratch[i] = args[i]!;
    if (task < ntasks && Atomics.load(ctl, JOBGEN) === gen) {
      lastRun = gen;
      scratch[nargs] = task;
      scratch[nargs + 1] = ntasks;
      scratch.length = nargs + 2;
      try {
        fn(...scratch);
      } catch (e) {
        // a trap must not kill the worker (the main thread would then wait for it forever)
        Atomics.store(ctl, FAILED, task);
        console.error(`needle-ts wasm worker ${task}: ${(e as Error)?.message ?? String(e)}`);
      } finally {
        if (Atomics.sub(ctl, PENDING, 1) === 1) Atomics.notify(ctl, PENDING);
      }
    }
  }
}
