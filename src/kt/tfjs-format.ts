/**
 * Models in TensorFlow.js layers format (model.json + a weights .bin), loadable by
 * `tf.loadLayersModel` as well as by Jejak, and as one self-contained Buffer for the database.
 *
 * The TF.js network computes exactly what the engine does, with the same weights:
 *   skill-only:  interactions [b, T, 2S] (one-hot of skill + S·correct)
 *                → LSTM(H, sigmoid gates) → Dropout → Dense(S, sigmoid) = P(correct) per skill
 *   item-aware:  inputs interactions, items [b, T] (item answered), next_items [b, T] (item asked next);
 *                LSTM input = concat(interactions, interactions · item_scale[item]);
 *                P = sigmoid(Dense(S)(h) + item_bias[next item]), per skill, for that next item.
 * The LSTM kernel/recurrent_kernel/bias are Keras's (gate order i, f, c, o) and are the engine's
 * own layout; only the Dense kernel is stored transposed in the engine.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'fs';
import { join } from 'path';
import { dktConfig, DktConfig, dktLayout, DktModel, ParamGroup, paramView } from './dkt';

/** What Jejak keeps with a model besides the weights (free-form where not named). */
export interface DktModelMeta {
  /** External skill id for each 0-based skill index. */
  skillIds?: string[];
  /** External item id for each 0-based item index. */
  itemIds?: string[];
  hyperParameters?: Record<string, unknown>;
  metrics?: Record<string, number>;
  /** e.g. "jejak-wasm". */
  engine?: string;
  /** ISO date. */
  trainedAt?: string;
  [key: string]: unknown;
}

export interface SavedDkt {
  model: DktModel;
  meta: DktModelMeta;
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

/** The model.json of a TF.js layers model (the parts Jejak writes and reads). */
export interface TfjsModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  modelTopology: { class_name: 'Model'; config: { name: string; layers: unknown[]; input_layers: unknown[]; output_layers: unknown[] }; keras_version: string; backend: string };
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  userDefinedMetadata?: { jejak: { version: 1; config: DktConfig; meta: DktModelMeta } };
}

const WEIGHTS_FILE = 'weights.bin';

function layer(className: string, name: string, config: Record<string, unknown>, inbound: string[]): unknown {
  return { name, class_name: className, config: { name, trainable: true, ...config }, inbound_nodes: inbound.length ? [inbound.map((n) => [n, 0, 0, {}])] : [] };
}

function inputLayer(name: string, shape: (number | null)[]): unknown {
  return layer('InputLayer', name, { batch_input_shape: shape, dtype: 'float32', sparse: false }, []);
}

function topology(config: DktConfig): TfjsModelJson['modelTopology'] {
  const S = config.numSkills;
  const itemAware = config.numItems > 0;
  const lstm = layer('LSTM', 'lstm', { units: config.hidden, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true, return_sequences: true, return_state: false, go_backwards: false, stateful: false, unroll: false, dropout: 0, recurrent_dropout: 0 }, [itemAware ? 'lstm_input' : 'interactions']);
  const dropout = layer('Dropout', 'dropout', { rate: config.dropout }, ['lstm']);
  const layers: unknown[] = [inputLayer('interactions', [null, null, 2 * S])];
  if (itemAware) {
    const embedding = { input_dim: config.numItems, output_dim: 1, batch_input_shape: [null, null] };
    layers.push(
      inputLayer('items', [null, null]),
      inputLayer('next_items', [null, null]),
      layer('Embedding', 'item_scale', embedding, ['items']),
      layer('Multiply', 'scaled_interactions', {}, ['interactions', 'item_scale']),
      layer('Concatenate', 'lstm_input', { axis: -1 }, ['interactions', 'scaled_interactions']),
      lstm,
      dropout,
      layer('Dense', 'skill_logits', { units: S, activation: 'linear', use_bias: true }, ['dropout']),
      layer('Embedding', 'item_bias', embedding, ['next_items']),
      layer('Add', 'logits', {}, ['skill_logits', 'item_bias']),
      layer('Activation', 'p_correct', { activation: 'sigmoid' }, ['logits']),
    );
  } else {
    layers.push(lstm, dropout, layer('Dense', 'p_correct', { units: S, activation: 'sigmoid', use_bias: true }, ['dropout']));
  }
  const inputs = itemAware ? ['interactions', 'items', 'next_items'] : ['interactions'];
  return {
    class_name: 'Model',
    config: { name: 'jejak_dkt', layers, input_layers: inputs.map((n) => [n, 0, 0]), output_layers: [['p_correct', 0, 0]] },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  };
}

/** TF.js weight name ↔ engine parameter group (transposed: the Dense kernel). */
interface WeightBinding {
  name: string;
  group: ParamGroup;
  shape: number[];
  transposed: boolean;
}

function weightMap(config: DktConfig): WeightBinding[] {
  const S = config.numSkills;
  const H = config.hidden;
  const layout = dktLayout(config);
  const dense = config.numItems > 0 ? 'skill_logits' : 'p_correct';
  const weights: WeightBinding[] = [
    { name: 'lstm/kernel', group: 'kernel', shape: [layout.kernelRows, 4 * H], transposed: false },
    { name: 'lstm/recurrent_kernel', group: 'recurrent', shape: [H, 4 * H], transposed: false },
    { name: 'lstm/bias', group: 'bias', shape: [4 * H], transposed: false },
    { name: `${dense}/kernel`, group: 'outWeights', shape: [H, S], transposed: true },
    { name: `${dense}/bias`, group: 'outBias', shape: [S], transposed: false },
  ];
  if (config.numItems > 0) {
    weights.push(
      { name: 'item_scale/embeddings', group: 'itemScale', shape: [config.numItems, 1], transposed: false },
      { name: 'item_bias/embeddings', group: 'itemBias', shape: [config.numItems, 1], transposed: false },
    );
  }
  return weights;
}

/** model.json and the weights' bytes for a model. */
export function toTfjsArtifacts(model: DktModel, meta: DktModelMeta = {}): { modelJson: TfjsModelJson; weights: Buffer } {
  const { config } = model;
  const layout = dktLayout(config);
  const map = weightMap(config);
  const out = new Float32Array(layout.total);
  let at = 0;
  for (const w of map) {
    const src = paramView(layout, model.params, w.group);
    if (w.transposed) {
      const [rows, cols] = w.shape;
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[at + r * cols + c] = src[c * rows + r];
    } else {
      out.set(src, at);
    }
    at += src.length;
  }
  const modelJson: TfjsModelJson = {
    format: 'layers-model',
    generatedBy: 'jejak',
    convertedBy: null,
    modelTopology: topology(config),
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: map.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) }],
    userDefinedMetadata: { jejak: { version: 1, config, meta } },
  };
  return { modelJson, weights: Buffer.from(out.buffer, out.byteOffset, out.byteLength) };
}

interface TopologyLayer {
  class_name: string;
  config: Record<string, unknown>;
}

/** The DKT config a model.json describes (its Jejak metadata, else read off the layers). */
function configFromJson(json: TfjsModelJson): DktConfig {
  const saved = json.userDefinedMetadata?.jejak?.config;
  if (saved) return dktConfig(saved);
  const layers = json.modelTopology.config.layers as TopologyLayer[];
  const byName = (name: string): TopologyLayer | undefined => layers.find((l) => l.config.name === name);
  const lstm = byName('lstm');
  const itemBias = byName('item_bias');
  const dense = byName(itemBias ? 'skill_logits' : 'p_correct');
  if (!lstm || !dense) throw new Error('model.json is not a Jejak DKT topology (no lstm / output layer)');
  return dktConfig({
    numSkills: dense.config.units as number,
    numItems: itemBias ? (itemBias.config.input_dim as number) : 0,
    hidden: lstm.config.units as number,
    dropout: (byName('dropout')?.config.rate as number | undefined) ?? 0,
  });
}

/** A model (and its metadata) from model.json and the bytes of its weight file(s), concatenated in manifest order. */
export function fromTfjsArtifacts(modelJson: TfjsModelJson, weights: Uint8Array): SavedDkt {
  if (modelJson.format !== 'layers-model') throw new Error(`expected a TF.js layers-model, got format ${modelJson.format}`);
  const config = configFromJson(modelJson);
  const layout = dktLayout(config);
  const specs = modelJson.weightsManifest.flatMap((g) => g.weights);
  const offsets = new Map<string, { at: number; spec: WeightSpec }>();
  let at = 0;
  for (const spec of specs) {
    if (spec.dtype !== 'float32') throw new Error(`weight ${spec.name} is ${spec.dtype}; only float32 is supported`);
    offsets.set(spec.name, { at, spec });
    at += spec.shape.reduce((a, b) => a * b, 1);
  }
  if (weights.byteLength !== 4 * at) throw new Error(`weights are ${weights.byteLength} bytes, the manifest needs ${4 * at}`);
  const data = new Float32Array(at);
  new Uint8Array(data.buffer).set(weights);
  const params = new Float32Array(layout.total);
  for (const w of weightMap(config)) {
    const found = offsets.get(w.name);
    if (!found) throw new Error(`weights have no ${w.name}`);
    if (found.spec.shape.join('x') !== w.shape.join('x')) throw new Error(`${w.name} has shape [${found.spec.shape}], expected [${w.shape}]`);
    const dst = paramView(layout, params, w.group);
    const src = data.subarray(found.at, found.at + dst.length);
    if (w.transposed) {
      const [rows, cols] = w.shape;
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
    } else {
      dst.set(src);
    }
  }
  return { model: { config, params }, meta: modelJson.userDefinedMetadata?.jejak?.meta ?? {} };
}

/** Writes `dir/model.json` and `dir/weights.bin`. */
export function saveTfjsModel(dir: string, model: DktModel, meta: DktModelMeta = {}): void {
  const { modelJson, weights } = toTfjsArtifacts(model, meta);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, WEIGHTS_FILE), weights);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
}

/** Reads a model saved by `saveTfjsModel` (or any TF.js export of the same topology) from its folder. */
export function loadTfjsModel(dir: string): SavedDkt {
  const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as TfjsModelJson;
  const weights = Buffer.concat(modelJson.weightsManifest.flatMap((g) => g.paths).map((p) => readFileSync(join(dir, p))));
  return fromTfjsArtifacts(modelJson, weights);
}

const MAGIC = Buffer.from('JEJAKDKT', 'ascii');

/**
 * One Buffer holding everything (for a database column or a single model file):
 * "JEJAKDKT", uint32 LE length of the model.json text, the text, zero padding to 4 bytes, the weights.
 */
export function serializeDkt(model: DktModel, meta: DktModelMeta = {}): Buffer {
  const { modelJson, weights } = toTfjsArtifacts(model, meta);
  const json = Buffer.from(JSON.stringify(modelJson), 'utf8');
  const header = Buffer.alloc(12);
  MAGIC.copy(header);
  header.writeUInt32LE(json.length, 8);
  const pad = Buffer.alloc((4 - ((12 + json.length) % 4)) % 4);
  return Buffer.concat([header, json, pad, weights]);
}

export function deserializeDkt(blob: Uint8Array): SavedDkt {
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (buf.length < 12 || !buf.subarray(0, 8).equals(MAGIC)) throw new Error('not a Jejak DKT model (bad magic)');
  const jsonLength = buf.readUInt32LE(8);
  if (12 + jsonLength > buf.length) throw new Error('truncated Jejak DKT model');
  const modelJson = JSON.parse(buf.subarray(12, 12 + jsonLength).toString('utf8')) as TfjsModelJson;
  const start = 12 + jsonLength + ((4 - ((12 + jsonLength) % 4)) % 4);
  return fromTfjsArtifacts(modelJson, buf.subarray(start));
}
