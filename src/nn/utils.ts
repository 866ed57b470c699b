/** `nd.nn.utils`: gradient clipping, as torch.nn.utils (the same functions as nd.optim's). */
export { clipGradNorm_, clipGradValue_ } from '../optim/clip.js';
