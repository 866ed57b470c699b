/** The `nd.autograd` namespace. */
export { gradOf as grad, jvp, gradcheck, grad as gradFn, valueAndGrad } from './functional.js';
export type { GradOptions, GradcheckOptions, GradcheckResult } from './functional.js';
export { noGrad, enableGrad, isGradEnabled } from './mode.js';
