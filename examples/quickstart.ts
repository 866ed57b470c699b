// The README's 15-line example: tensors, matmul, backward, grad, forward mode.
import * as nd from '../src/index.js';

const x = nd.tensor([[1, 2], [3, 4]], { requiresGrad: true });
const w = nd.tensor([[0.5, -1], [2, 0.25]], { requiresGrad: true });
const y = x.matmul(w).tanh().sum();          // forward
y.backward();                                 // reverse mode into .grad
console.log('y =', y.item());
console.log('dy/dx =', x.grad!.toArray());

const f = (t: nd.Tensor) => t.exp().mul(t.sin()).sum();
const df = nd.grad(f) as (t: nd.Tensor) => nd.Tensor;   // function transform
console.log('df/dt =', df(nd.tensor([0.5, 1.5])).toArray());

const [, tangent] = nd.autograd.jvp(f, [nd.tensor([0.5, 1.5])], [nd.tensor([1, 0])]);
console.log('directional derivative =', tangent.item());
