/** `nd.utils`: torch.utils counterparts (`nd.utils.data`). */
export * as data from './index.js';
