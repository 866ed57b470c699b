/** `needle-ts info`: versions, devices and backends, models and data sets. */
import { cpus, platform, arch, totalmem } from 'node:os';
import * as nd from '../index.js';
import { helpText, parseArgs, type CommandSpec } from './args.js';
import { packageVersion, println, PROG, type CliIO } from './common.js';
import { IMAGE_DATASETS, SEQUENCE_DATASETS, TEXT_DATASETS } from './data.js';
import { MODELS } from './models.js';

/** The interface of `needle-ts info`. */
export const INFO_SPEC: CommandSpec = {
  name: 'info',
  usage: 'info [--json]',
  summary: 'Show versions, devices and backends, and the models and data sets the CLI knows.',
  positionals: [],
  flags: [{ name: 'json', type: 'boolean', help: 'Print one JSON object instead of text' }],
};

/** Runs `needle-ts info`. */
export async function infoCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const p = parseArgs(PROG, INFO_SPEC, argv);
  if (p.help) {
    io.stdout.write(helpText(PROG, INFO_SPEC));
    return 0;
  }
  const cpu = cpus();
  const devices = nd.listDevices();
  const info = {
    'needle-ts': await packageVersion(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${platform()} ${arch()}`,
    cpus: `${cpu.length} x ${cpu[0]?.model.trim() ?? 'unknown'}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    defaultDevice: nd.getDefaultDevice(),
    devices: devices.map((d) => ({ device: d, backend: nd.getBackend(d).name })),
    wasm: nd.info().wasm,
    models: Object.fromEntries(Object.entries(MODELS).map(([k, e]) => [k, { task: e.task, dataset: e.dataset, description: e.description }])),
    datasets: { image: [...IMAGE_DATASETS], text: [...TEXT_DATASETS, 'file:PATH'], sequence: [...SEQUENCE_DATASETS] },
  };
  if (p.flags['json'] === true) {
    println(io.stdout, JSON.stringify(info, null, 2));
    return 0;
  }
  const say = (line = '') => println(io.stdout, line);
  say(`needle-ts ${info['needle-ts']}`);
  say(`node      ${info.node} (V8 ${info.v8}), ${info.platform}`);
  say(`cpu       ${info.cpus}, ${info.memory}`);
  say(`devices   ${info.devices.map((d) => `${d.device}${d.device === info.defaultDevice ? ' (default)' : ''}`).join(', ')}`);
  say(`backends  ${info.devices.map((d) => `${d.device}: ${d.backend}`).join(', ')}`);
  const w = info.wasm;
  say(w.available
    ? `wasm      ${w.threads} thread${w.threads === 1 ? '' : 's'}, ${w.relaxedSimd ? 'relaxed SIMD (fused multiply-add)' : 'plain SIMD'}, memory reclaimed ${w.syncReclaim ? 'synchronously' : 'by the collector'}`
    : `wasm      unavailable: ${w.reason ?? 'unknown reason'}`);
  say(`matmul    ${w.matmul === 'blas' ? 'system BLAS' : 'WebAssembly'} (${w.blas})`);
  const c = nd.info().cuda;
  say(`cuda      ${c.available ? `${c.device?.name ?? 'available'}` : `unavailable (${c.reason})`}`);
  say('models');
  for (const [k, e] of Object.entries(MODELS)) say(`  ${k.padEnd(20)}${e.task.padEnd(9)}${e.description}`);
  say(`datasets  image: ${info.datasets.image.join(', ')}; text: ${info.datasets.text.join(', ')}; sequence: ${info.datasets.sequence.join(', ')}`);
  return 0;
}
