/** needle-ts side of tools/module_cases/recurrent.py (recurrent layers). */
import * as nd from '../../src/index.js';
import type { ModuleTable } from './harness.js';

/** The full-sequence layers' options from a case's args. */
const fullOpts = (a: any, dtype: nd.DType) => ({
  numLayers: a.numLayers ?? 1,
  bias: a.bias ?? true,
  batchFirst: a.batchFirst ?? false,
  dropout: a.dropout ?? 0,
  bidirectional: a.bidirectional ?? false,
  dtype,
});

export const RECURRENT: ModuleTable = {
  RNNCell: { build: (a, dtype) => new nd.nn.RNNCell(a.input, a.hidden, { bias: a.bias ?? true, nonlinearity: a.nonlinearity ?? 'tanh', dtype }) },
  GRUCell: { build: (a, dtype) => new nd.nn.GRUCell(a.input, a.hidden, { bias: a.bias ?? true, dtype }) },
  LSTMCell: {
    build: (a, dtype) => new nd.nn.LSTMCell(a.input, a.hidden, { bias: a.bias ?? true, dtype }),
    forward: (m: nd.nn.LSTMCell, xs) => m.forward(xs[0]!, xs.length > 1 ? [xs[1]!, xs[2]!] : undefined),
  },
  RNN: {
    build: (a, dtype) => new nd.nn.RNN(a.input, a.hidden, { ...fullOpts(a, dtype), nonlinearity: a.nonlinearity ?? 'tanh' }),
    forward: (m: nd.nn.RNN, xs) => m.forward(xs[0]!, xs[1]),
  },
  GRU: {
    build: (a, dtype) => new nd.nn.GRU(a.input, a.hidden, fullOpts(a, dtype)),
    forward: (m: nd.nn.GRU, xs) => m.forward(xs[0]!, xs[1]),
  },
  LSTM: {
    build: (a, dtype) => new nd.nn.LSTM(a.input, a.hidden, fullOpts(a, dtype)),
    forward: (m: nd.nn.LSTM, xs) => {
      const [out, [h, c]] = m.forward(xs[0]!, xs.length > 1 ? [xs[1]!, xs[2]!] : undefined);
      return [out, h, c];
    },
  },
};
