/**
 * Where the CUDA libraries are: the driver (libcuda), NVRTC and cuBLAS. Pure functions over an
 * injected file system view, so tests can check the search order without the libraries.
 *
 * Order, first found wins:
 * - the driver: `NEEDLE_LIBCUDA` (a file), then `libcuda.so.1` by the dynamic loader's search,
 *   then the usual driver folders (/usr/local/nvidia/lib64 in containers, the distribution's
 *   library folders, WSL's /usr/lib/wsl/lib). Never a toolkit's `stubs/` copy (it only fails).
 * - NVRTC and cuBLAS: `NEEDLE_NVRTC` / `NEEDLE_CUBLAS` (files), then every folder below, newest
 *   soname first (13, 12, 11): `NEEDLE_CUDA_PATH` (a toolkit root or a library folder), CUDA_PATH,
 *   CUDA_HOME, /usr/local/cuda, /opt/cuda, the pip wheels' `nvidia/<pkg>/lib` folders of the
 *   Python environments in sight (VIRTUAL_ENV, CONDA_PREFIX, PYTHONPATH, NEEDLE_PYTHON_SITE,
 *   ~/.local, /usr/local and /usr), and last the bare sonames for the dynamic loader.
 */

/** The part of the file system discovery reads (tests pass a fake). */
export interface DiscoveryFs {
  exists(path: string): boolean;
  /** Entries of a folder ([] when it is missing). */
  readdir(path: string): string[];
}

/** Where to look for each library, best first (paths, or bare names for the dynamic loader). */
export interface CudaCandidates {
  driver: string[];
  nvrtc: string[];
  cublas: string[];
  /** Folders searched for NVRTC and cuBLAS (for messages). */
  folders: string[];
}

const NVRTC_SONAMES = ['libnvrtc.so.13', 'libnvrtc.so.12', 'libnvrtc.so.11.2', 'libnvrtc.so'];
const CUBLAS_SONAMES = ['libcublas.so.13', 'libcublas.so.12', 'libcublas.so.11', 'libcublas.so'];
/** pip wheels: nvidia-cuda-nvrtc / nvidia-cublas (CUDA 11/12 layout) and the CUDA 13 "cu13" layout. */
const PIP_DIRS = ['nvidia/cu13/lib', 'nvidia/cu12/lib', 'nvidia/cuda_nvrtc/lib', 'nvidia/cublas/lib'];

function join(...parts: string[]): string {
  return parts.join('/').replace(/\/+/g, '/');
}

function uniq(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** Library folders of a toolkit root (or the folder itself when it already is one). */
function toolkitDirs(root: string, arch: string): string[] {
  return [join(root, 'lib64'), join(root, 'lib'), join(root, 'targets', `${arch}-linux`, 'lib'), root];
}

/** site-packages / dist-packages folders below a Python prefix (<prefix>/lib/python3.X/...). */
function sitePackages(prefix: string, fs: DiscoveryFs): string[] {
  const out: string[] = [];
  for (const lib of ['lib', 'lib64']) {
    const base = join(prefix, lib);
    for (const e of fs.readdir(base)) {
      if (!/^python3(\.\d+)?$/.test(e)) continue;
      out.push(join(base, e, 'site-packages'), join(base, e, 'dist-packages'));
    }
  }
  return out;
}

/** The search lists for `env` (see the file comment). */
export function cudaCandidates(env: Record<string, string | undefined>, fs: DiscoveryFs, arch = 'x86_64'): CudaCandidates {
  const set = (k: string) => {
    const v = env[k];
    return v !== undefined && v.trim() !== '' ? v.trim() : null;
  };
  // the driver
  const driver: string[] = [];
  const libcuda = set('NEEDLE_LIBCUDA');
  if (libcuda) driver.push(libcuda);
  driver.push('libcuda.so.1');
  for (const d of ['/usr/local/nvidia/lib64', '/usr/local/nvidia/lib', `/usr/lib/${arch}-linux-gnu`, '/usr/lib64', '/usr/lib', '/usr/lib/wsl/lib']) {
    const p = join(d, 'libcuda.so.1');
    if (fs.exists(p)) driver.push(p);
  }
  // NVRTC / cuBLAS folders
  const folders: string[] = [];
  const cudaPath = set('NEEDLE_CUDA_PATH');
  if (cudaPath) folders.push(...toolkitDirs(cudaPath, arch));
  for (const k of ['CUDA_PATH', 'CUDA_HOME']) {
    const v = set(k);
    if (v) folders.push(...toolkitDirs(v, arch));
  }
  folders.push(...toolkitDirs('/usr/local/cuda', arch), ...toolkitDirs('/opt/cuda', arch));
  const sites: string[] = [];
  const pySite = set('NEEDLE_PYTHON_SITE');
  if (pySite) sites.push(...pySite.split(':'));
  for (const k of ['VIRTUAL_ENV', 'CONDA_PREFIX']) {
    const v = set(k);
    if (v) sites.push(...sitePackages(v, fs));
  }
  const pyPath = set('PYTHONPATH');
  if (pyPath) sites.push(...pyPath.split(':').filter((s) => s !== ''));
  const home = set('HOME');
  if (home) sites.push(...sitePackages(join(home, '.local'), fs));
  sites.push(...sitePackages('/usr/local', fs), ...sitePackages('/usr', fs), '/usr/lib/python3/dist-packages');
  for (const s of uniq(sites)) for (const p of PIP_DIRS) folders.push(join(s, p));
  folders.push(`/usr/lib/${arch}-linux-gnu`, '/usr/lib64');
  const dirs = uniq(folders).filter((d) => fs.exists(d));
  const find = (explicit: string | null, sonames: readonly string[]): string[] => {
    const out: string[] = [];
    if (explicit) out.push(explicit);
    for (const so of sonames) for (const d of dirs) {
      const p = join(d, so);
      if (fs.exists(p)) out.push(p);
    }
    out.push(...sonames.slice(0, -1));
    return uniq(out);
  };
  return {
    driver: uniq(driver),
    nvrtc: find(set('NEEDLE_NVRTC'), NVRTC_SONAMES),
    cublas: find(set('NEEDLE_CUBLAS'), CUBLAS_SONAMES),
    folders: uniq(folders),
  };
}

/**
 * Libraries that must be loaded before `lib` from its own folder so that its dependencies
 * resolve without LD_LIBRARY_PATH (pip wheels ship cuBLASLt and NVRTC's builtins beside them).
 */
export function companions(lib: string, fs: DiscoveryFs): string[] {
  const slash = lib.lastIndexOf('/');
  if (slash < 0) return [];
  const dir = lib.slice(0, slash);
  const base = lib.slice(slash + 1);
  const prefix = base.startsWith('libcublas.') ? 'libcublasLt.so' : base.startsWith('libnvrtc.') ? 'libnvrtc-builtins.so' : null;
  if (!prefix) return [];
  return fs.readdir(dir).filter((e) => e.startsWith(prefix)).sort((a, b) => b.length - a.length).map((e) => join(dir, e));
}
