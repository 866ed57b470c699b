/**
 * needle's model zoo (`nd.models`): the MLP-ResNet of homework 2 and the ResNet9 of homework 4,
 * built from `nd.nn` layers with the course's structure, so their state-dict keys are those of
 * the equivalent `torch.nn.Sequential`.
 */
export { ResidualBlock, MLPResNet } from './mlp_resnet.js';
export type { NormFactory, ModelOptions } from './mlp_resnet.js';
export { ConvBN, ResNet9 } from './resnet9.js';
