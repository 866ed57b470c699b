/**
 * Threads for the wasm kernels: workers that instantiate the same module on the same shared
 * memory and run parts of a kernel when the main thread posts a job.
 *
 * Protocol (all through one control block in the shared memory, no messages per job):
 *   ctl[GEN]      job generation; the main thread bumps it and notifies to start a job
 *   ctl[PENDING]  tasks 1.. of the current job not finished yet; whoever finishes the last notifies
 *   ctl[KERNEL]   index of the kernel (into the name list sent at start-up)
 *   ctl[NTASKS]   number of tasks
 *   ctl[READY]    workers that finished start-up
 *   ctl[JOBGEN]   the generation the descriptors belong to (a worker that wakes late for an
 *                 older generation must not run a newer job)
 *   ctl[PARK]     nonzero: spinning workers sleep at once (before the system BLAS runs)
 *   CLAIM         64-bit word at byte CLAIM_BYTE: (generation << 32) | next task to hand out
 *   f64 args      from byte ARGS of the block
 * The main thread runs task 0, then claims further tasks like the workers do: tasks go to
 * whoever asks first (compare-and-swap on CLAIM, which names the generation, so a worker that
 * read an older job's descriptors can never take a task of a newer one). A worker that is asleep
 * or descheduled therefore costs at most the task it already took, never a whole share of the
 * work: the main thread does what nobody took. A kernel called this way takes the job's
 * arguments followed by (task, ntasks), so splitting the work is the kernel's own business and
 * results do not depend on timing (only on ntasks), nor on which thread ran which task.
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
/** Nonzero: spinning workers go to sleep at once (set by {@link ThreadPool.park}, cleared by run). */
export const PARK = 10;
/** Byte offset of the 64-bit claim word ((generation << 32) | next task) in the control block. */
export const CLAIM_BYTE = 32;
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

/**
 * A gap this long (milliseconds) between two checks of a spinning worker, ~1024 loads apart
 * (~5 us), means that it was descheduled: it stops spinning and sleeps.
 */
const PREEMPTED_MS = 0.2;

/** How long the main thread spins waiting for the workers before it sleeps (milliseconds). */
const MAIN_SPIN_MS = 0.05;

/**
 * Takes the next task of the job of generation `gen` (`ntasks` tasks) from the claim word:
 * its number, or -1 when every task is taken or the word already belongs to another job.
 */
function claim(word: BigInt64Array, gen: bigint, ntasks: number): number {
  for (;;) {
    const v = Atomics.load(word, 0);
    if (v >> 32n !== gen) return -1;
    const t = Number(v & 0xffffffffn);
    if (t >= ntasks) return -1;
    if (Atomics.compareExchange(word, 0, v, v + 1n) === v) return t;
  }
}

/** Runs kernels split over the main thread and `threads - 1` workers. */
export class ThreadPool {
  readonly threads: number;
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;
  private readonly claimWord: BigInt64Array;
  private readonly ids = new Map<string, number>();
  private readonly workers: WorkerHandle[] = [];
  /** Whether the main thread spins while it waits for the workers (not when threads outnumber cores). */
  private readonly mainSpins: boolean;
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
    if (control % 8 !== 0) throw internal(`wasm thread pool: control block at ${control} is not 8-byte aligned`);
    this.claimWord = new BigInt64Array(buf, control + CLAIM_BYTE, 1);
    const kernels = Object.keys(exports).filter((k) => typeof exports[k] === 'function');
    kernels.forEach((k, i) => this.ids.set(k, i));
    this.threads = spawn ? Math.max(1, threads) : 1;
    this.canWait = typeof (globalThis as { window?: unknown }).window === 'undefined';
    const spin = this.threads <= cores ? 300_000 : 0;
    this.mainSpins = this.threads <= cores;
    for (let w = 0; w < this.threads - 1; w++) this.workers.push(spawn!({ module, memory, control, kernels, spin }));
  }

  /**
   * Sends spinning workers to sleep now instead of after their ~1 ms spin: called before work that
   * other threads do on these cores (the system BLAS's own threads), which a spinning worker would
   * slow down (measured on 2 cores: a BLAS GEMM right after a threaded kernel took twice as long).
   * The next {@link run} wakes them.
   */
  park(): void {
    if (this.workers.length > 0 && this.ctl[PARK] === 0) Atomics.store(this.ctl, PARK, 1);
  }

  /** Workers that are ready to take parts of a job (start-up is asynchronous). */
  get ready(): number {
    if (this.workers.length === 0) return 0; // (and no view of a plain memory that may have grown)
    return Math.min(Atomics.load(this.ctl, READY), this.workers.length);
  }

  /**
   * Runs kernel `name` with `args` + (task, ntasks) for every task in [0, ntasks), on up to
   * `threads` threads. `parts` caps the number of tasks (use 1 for small work), and so does
   * `perThread` times the threads that are ready (more tasks than threads balance the load when
   * a thread is slow to start or shares its core; with no worker ready, there is one task). The
   * calling thread runs task 0 and then every task that no worker has taken yet, so a worker
   * that is asleep or descheduled delays the job by at most the task it took.
   */
  run(name: string, args: readonly number[], parts = this.threads, perThread = 1): void {
    const fn = this.exports[name] as KernelFn | undefined;
    if (typeof fn !== 'function') throw internal(`wasm kernel ${name} is missing`);
    const ready = this.ready;
    const n = ready === 0 ? 1 : Math.min(parts, (1 + ready) * perThread);
    if (n <= 1) {
      fn(...args, 0, 1);
      return;
    }
    if (args.length > MAX_ARGS) throw internal(`wasm kernel ${name}: at most ${MAX_ARGS} arguments for threads, got ${args.length}`);
    const ctl = this.ctl;
    const gen = (ctl[GEN]! + 1) | 0;
    if (ctl[PARK] !== 0) Atomics.store(ctl, PARK, 0);
    Atomics.store(ctl, JOBGEN, -1); // descriptors in flux (a seqlock with the check in serveJobs)
    this.args.set(args);
    ctl[KERNEL] = this.ids.get(name)!;
    ctl[NTASKS] = n;
    Atomics.store(ctl, PENDING, n - 1);
    const tag = BigInt(gen);
    Atomics.store(this.claimWord, 0, (tag << 32n) + 1n); // task 0 is this thread's
    Atomics.store(ctl, JOBGEN, gen);
    Atomics.add(ctl, GEN, 1);
    Atomics.notify(ctl, GEN);
    let mainError: unknown = null;
    try {
      fn(...args, 0, n);
    } catch (e) {
      mainError = e; // still account for every task: the next job must not start while workers run this one
    }
    // the tasks that no worker has taken: run them here (after an error, only take them)
    for (let t = claim(this.claimWord, tag, n); t >= 0; t = claim(this.claimWord, tag, n)) {
      if (mainError === null) {
        try {
          fn(...args, t, n);
        } catch (e) {
          mainError = e;
        }
      }
      Atomics.sub(ctl, PENDING, 1);
    }
    // wait for the tasks the workers took: spin for up to MAIN_SPIN_MS (they usually end within
    // microseconds of this thread), then sleep: a worker that needs longer is most likely
    // descheduled, maybe waiting for this very core, and waking from a short sleep costs ~10 us
    let since = 0;
    const spinUntil = this.mainSpins ? performance.now() + MAIN_SPIN_MS : 0;
    for (let spin = 0; Atomics.load(ctl, PENDING) !== 0; spin++) {
      if ((spin & 1023) === 1023 && this.canWait && (since !== 0 || performance.now() > spinUntil)) {
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
  const claimWord = new BigInt64Array(buf, init.control + CLAIM_BYTE, 1);
  // (a worker reads the generation before counting itself ready, so it takes part only in jobs
  // posted after that; tasks are claimed, so which workers are ready does not matter otherwise)
  let gen = Atomics.load(ctl, GEN);
  Atomics.add(ctl, READY, 1);
  let lastRun = -1;
  const scratch = new Array<number>(MAX_ARGS + 2);
  for (;;) {
    // spin before sleeping (about a millisecond): jobs come in bursts separated by the JavaScript
    // of autograd, and a wake-up from Atomics.wait costs up to ~100 us, more than most jobs take.
    // A spin that finds itself descheduled stops at once: its core is shared (with the main
    // thread, maybe), and spinning would only slow down whoever it shares with; so does one that
    // the main thread parks (before calling the system BLAS, whose threads need the cores).
    let spins = 0;
    let last = performance.now();
    while (Atomics.load(ctl, GEN) === gen && spins < init.spin && Atomics.load(ctl, PARK) === 0) {
      if ((++spins & 1023) === 0) {
        const now = performance.now();
        if (now - last > PREEMPTED_MS) break;
        last = now;
      }
    }
    if (Atomics.load(ctl, GEN) === gen) Atomics.wait(ctl, GEN, gen);
    gen = Atomics.load(ctl, GEN);
    if (Atomics.load(ctl, STOP)) return;
    // descriptors first (checked against JOBGEN before and after: a seqlock), then tasks are
    // claimed with this generation's tag, so each task runs once whatever woke this worker
    if (gen === lastRun || Atomics.load(ctl, JOBGEN) !== gen) continue;
    const ntasks = ctl[NTASKS]!;
    const fn = fns[ctl[KERNEL]!];
    if (fn === undefined) continue;
    const nargs = fn.length - 2;
    for (let i = 0; i < nargs; i++) scratch[i] = args[i]!;
    if (Atomics.load(ctl, JOBGEN) !== gen) continue;
    lastRun = gen;
    scratch[nargs + 1] = ntasks;
    scratch.length = nargs + 2;
    const tag = BigInt(gen);
    for (let task = claim(claimWord, tag, ntasks); task >= 0; task = claim(claimWord, tag, ntasks)) {
      scratch[nargs] = task;
      try {
        fn(...scratch);
      } catch (e) {
        // a trap must not kill the worker (the main thread would then wait for it forever)
        Atomics.store(ctl, FAILED, task);
        console.error(`needle-ts wasm worker task ${task}: ${(e as Error)?.message ?? String(e)}`);
      } finally {
        if (Atomics.sub(ctl, PENDING, 1) === 1) Atomics.notify(ctl, PENDING);
      }
    }
  }
}
