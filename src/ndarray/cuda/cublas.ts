/**
 * cuBLAS through koffi: the backend's float32/float64 matmul, row-major batched products mapped
 * onto cuBLAS's column-major strided-batched GEMM. TF32 tensor cores only when the user opts in.
 */
import { CudaError, type KoffiLike } from './driver.js';

type Handle = bigint | null;

/** The raw cuBLAS functions (cublasStatus_t = number). Device pointers are numbers. */
export interface CublasApi {
  cublasCreate_v2(out: BigUint64Array): number;
  cublasSetStream_v2(h: Handle, stream: Handle): number;
  cublasSetMathMode(h: Handle, mode: number): number;
  cublasGetVersion_v2(h: Handle, out: Int32Array): number;
  cublasSgemmStridedBatched(
    h: Handle, transa: number, transb: number, m: number, n: number, k: number,
    alpha: Float32Array, A: number, lda: number, strideA: number, B: number, ldb: number, strideB: number,
    beta: Float32Array, C: number, ldc: number, strideC: number, batch: number,
  ): number;
  cublasDgemmStridedBatched(
    h: Handle, transa: number, transb: number, m: number, n: number, k: number,
    alpha: Float64Array, A: number, lda: number, strideA: number, B: number, ldb: number, strideB: number,
    beta: Float64Array, C: number, ldc: number, strideC: number, batch: number,
  ): number;
  cublasGetStatusName?(status: number): string | null;
}

export const CUBLAS_DECLS: Record<keyof CublasApi, string> = {
  cublasCreate_v2: 'int cublasCreate_v2(void *out)',
  cublasSetStream_v2: 'int cublasSetStream_v2(void *h, void *stream)',
  cublasSetMathMode: 'int cublasSetMathMode(void *h, int mode)',
  cublasGetVersion_v2: 'int cublasGetVersion_v2(void *h, void *out)',
  cublasSgemmStridedBatched: 'int cublasSgemmStridedBatched(void *h, int transa, int transb, int m, int n, int k, const void *alpha, uint64_t A, int lda, int64_t strideA, uint64_t B, int ldb, int64_t strideB, const void *beta, uint64_t C, int ldc, int64_t strideC, int batch)',
  cublasDgemmStridedBatched: 'int cublasDgemmStridedBatched(void *h, int transa, int transb, int m, int n, int k, const void *alpha, uint64_t A, int lda, int64_t strideA, uint64_t B, int ldb, int64_t strideB, const void *beta, uint64_t C, int ldc, int64_t strideC, int batch)',
  cublasGetStatusName: 'const char *cublasGetStatusName(int status)',
};

/** Binds libcublas at `path` (throws with the reason). */
export function bindCublas(koffi: KoffiLike, path: string): CublasApi {
  const lib = koffi.load(path);
  const api: Record<string, unknown> = {};
  for (const [name, decl] of Object.entries(CUBLAS_DECLS)) {
    try {
      api[name] = lib.func(decl);
    } catch (e) {
      if (name !== 'cublasGetStatusName') throw new Error(`${path} has no ${name}: ${(e as Error).message}`);
    }
  }
  return api as unknown as CublasApi;
}

const STATUS: Record<number, string> = {
  0: 'CUBLAS_STATUS_SUCCESS', 1: 'CUBLAS_STATUS_NOT_INITIALIZED', 3: 'CUBLAS_STATUS_ALLOC_FAILED',
  7: 'CUBLAS_STATUS_INVALID_VALUE', 8: 'CUBLAS_STATUS_ARCH_MISMATCH', 11: 'CUBLAS_STATUS_MAPPING_ERROR',
  13: 'CUBLAS_STATUS_EXECUTION_FAILED', 14: 'CUBLAS_STATUS_INTERNAL_ERROR', 15: 'CUBLAS_STATUS_NOT_SUPPORTED',
  16: 'CUBLAS_STATUS_LICENSE_ERROR',
};

const OP_N = 0;
const OP_T = 1;
/** cublasMath_t: CUBLAS_DEFAULT_MATH (full FP32) and CUBLAS_TF32_TENSOR_OP_MATH. */
const DEFAULT_MATH = 0;
const TF32_MATH = 3;

/** The arguments of one cuBLAS call for a row-major product (see {@link gemmArgs}). */
export interface GemmArgs {
  transa: number;
  transb: number;
  m: number;
  n: number;
  k: number;
  /** Which operand goes first: cuBLAS's A is our B. */
  lda: number;
  ldb: number;
  ldc: number;
}

/**
 * Row-major C (m x n) = op(A) (m x k) @ op(B) (k x n) as cuBLAS's column-major product: a
 * row-major matrix is the column-major storage of its transpose, so C^T = op(B)^T op(A)^T is
 * computed with cuBLAS's A := our B and B := our A. `transA` means A is stored k x m (row-major),
 * `transB` that B is stored n x k.
 */
export function gemmArgs(m: number, n: number, k: number, transA: boolean, transB: boolean): GemmArgs {
  return {
    transa: transB ? OP_T : OP_N,
    transb: transA ? OP_T : OP_N,
    m: n,
    n: m,
    k,
    lda: transB ? k : n,
    ldb: transA ? m : k,
    ldc: n,
  };
}

/** A cuBLAS handle on the backend's stream. */
export class Cublas {
  readonly handle: bigint;
  readonly version: number;
  private tf32 = false;
  private readonly one32 = new Float32Array([1]);
  private readonly zero32 = new Float32Array([0]);
  private readonly one64 = new Float64Array([1]);
  private readonly zero64 = new Float64Array([0]);

  constructor(readonly api: CublasApi, stream: bigint | null) {
    const o = new BigUint64Array(1);
    this.check('cublasCreate_v2', api.cublasCreate_v2(o));
    this.handle = o[0]!;
    this.check('cublasSetStream_v2', api.cublasSetStream_v2(this.handle, stream));
    this.check('cublasSetMathMode', api.cublasSetMathMode(this.handle, DEFAULT_MATH));
    const v = new Int32Array(1);
    this.version = api.cublasGetVersion_v2(this.handle, v) === 0 ? v[0]! : 0;
  }

  private check(call: string, status: number): void {
    if (status === 0) return;
    let name = STATUS[status] ?? `cublasStatus ${status}`;
    try {
      name = this.api.cublasGetStatusName?.(status) ?? name;
    } catch {
      // keep the table's name
    }
    throw new CudaError('cublas', call, status, name);
  }

  /** Whether float32 products may use TF32 tensor cores (10-bit mantissa inputs). */
  get allowTF32(): boolean {
    return this.tf32;
  }
  setAllowTF32(on: boolean): void {
    if (on === this.tf32) return;
    this.check('cublasSetMathMode', this.api.cublasSetMathMode(this.handle, on ? TF32_MATH : DEFAULT_MATH));
    this.tf32 = on;
  }

  /**
   * C[b] = op(A[b]) @ op(B[b]) for b < batch, row-major, with A, B, C device addresses and
   * element strides between batches (0 broadcasts one matrix).
   */
  gemm(
    dtype: 'float32' | 'float64', A: number, B: number, C: number,
    m: number, n: number, k: number, transA: boolean, transB: boolean, strideA: number, strideB: number, batch: number,
  ): void {
    const g = gemmArgs(m, n, k, transA, transB);
    if (dtype === 'float32') {
      this.check('cublasSgemmStridedBatched', this.api.cublasSgemmStridedBatched(
        this.handle, g.transa, g.transb, g.m, g.n, g.k, this.one32, B, g.lda, strideB, A, g.ldb, strideA,
        this.zero32, C, g.ldc, m * n, batch,
      ));
    } else {
      this.check('cublasDgemmStridedBatched', this.api.cublasDgemmStridedBatched(
        this.handle, g.transa, g.transb, g.m, g.n, g.k, this.one64, B, g.lda, strideB, A, g.ldb, strideA,
        this.zero64, C, g.ldc, m * n, batch,
      ));
    }
  }
}
