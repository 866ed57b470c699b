/**
 * needle's model zoo (`nd.models`): the MLP-ResNet of homework 2 and the ResNet9 of homework 4,
 * built from `nd.nn` layers with the course's structure, so their state-dict keys are those of
 * the equivalent `torch.nn.Sequential`.
 */
export { ResidualBlock, MLPResNet } from './mlp_resnet.js';
export type { NormFactory, ModelOptions } from './mlp_resnet.js';
export { ConvBN, ResNet9 } from './resnet9.js';
export { LanguageModel, CausalTransformer, detachState } from './language.js';
export type { LanguageModelOptions, CausalTransformerOptions, SeqModelKind, LMState } from './language.js';
export { TemporalBlock, TCN, Seq2Seq, BiLSTMTagger } from './sequence.js';
export type { TCNOptions, Seq2SeqOptions, GreedyDecodeOptions, BiLSTMTaggerOptions } from './sequence.js';
export { SoftmaxRegression, TwoLayerNet, RandomFourierFeatures } from './classic.js';
export type { ManualGradients, RandomFourierOptions } from './classic.js';
export { SmallCNN, ResNet9MNIST } from './cnn.js';
export type { SmallCNNOptions } from './cnn.js';
export { hessian, choleskySolve, newtonMinimize, logisticRegressionLoss } from './newton.js';
export type { HessianResult, NewtonOptions, NewtonResult } from './newton.js';
