// `npm run zoo:seq`: every sequence-model zoo run, one after another, then a summary table.
// Each run can also be started alone (examples/zoo/seq_*.ts); `--only=tcn,tagger` picks runs.
// Results and commands are recorded in docs/zoo-seq.md.
import { fmtNum, report, type ZooResult } from './seq_common.js';
import { runTCN, tcnDefaults } from './seq_tcn.js';
import { runTagger, taggerDefaults } from './seq_tagger.js';
import { runSeq2Seq, seq2seqDefaults } from './seq_seq2seq.js';
import { lmDefaults, lstmConfig, runLM, transformerConfig } from './seq_lm.js';

const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',') ?? null;
const want = (name: string): boolean => only === null || only.includes(name);

const results: ZooResult[] = [];
const t0 = performance.now();
let lstmPpl: number | null = null;
if (want('tcn')) results.push(runTCN(tcnDefaults));
if (want('tagger')) results.push(runTagger(taggerDefaults));
if (want('seq2seq')) results.push(runSeq2Seq(seq2seqDefaults));
if (want('lstm')) {
  const r = await runLM({ ...lmDefaults, ...lstmConfig });
  lstmPpl = r.value;
  results.push(r);
}
if (want('transformer')) results.push(await runLM({ ...lmDefaults, ...transformerConfig }, lstmPpl));

console.log('\n| task | model | metric | value | baseline | target | met | wall s | params |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  console.log(
    `| ${r.task} | ${r.model} | ${r.metric} | ${fmtNum(r.value)} | ${r.baselineName} ${fmtNum(r.baseline)} | ${r.target} | ${r.passed ? 'yes' : 'NO'} | ${r.seconds.toFixed(0)} | ${r.params} |`,
  );
}
for (const r of results) if (r.notes) console.log(`- ${r.model}: ${r.notes}`);
console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(0)} s`);
for (const r of results) report(r);
process.exitCode = results.every((r) => r.passed) ? 0 : 1;
