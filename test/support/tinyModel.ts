// A small BERT-shaped ONNX model and WordPiece tokenizer, generated locally (no model hub is
// reachable from CI). Word embeddings are random, the graph is embed -> tanh -> mask, so mean
// pooling gives a bag-of-words vector: texts sharing words are near, unrelated texts are not,
// which lets retrieval tests assert something real through the real transformers.js path.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require_ = createRequire(__filename);
// onnx-proto is CommonJS with a nested namespace.
const { onnx } = require_('onnx-proto') as { onnx: OnnxNamespace };

interface OnnxNamespace {
  ModelProto: { create(m: unknown): unknown; encode(m: unknown): { finish(): Uint8Array } };
  TensorProto: { DataType: { FLOAT: number; INT64: number } };
  AttributeProto: { AttributeType: { INT: number } };
}

/** The model's id under its folder (what `--embedding-model` names). */
export const TINY_MODEL_ID = 'rag-ledger/tiny-bert';
export const TINY_MODEL_DIMS = 64;

/** Real words, so that vocabulary overlap means topical overlap. */
const WORDS = `
the a an of to and in is it that for on with as was be by this are or from at which but not have has had were can will all
one would there their what about when your more some out time up use so if how each do them then many these make like into
look two write go see number no way could people my than first been call who its now find long down day did get come made may
part new just only also after back other any work three most very where through well because even over here such must own
rust cargo crate package module function struct enum trait impl match pattern ownership borrow borrowing reference lifetime
string vector hash map error result option panic unwrap test tests closure iterator thread threads concurrency channel mutex
arc box smart pointer pointers memory heap stack compile compiler program programs install installation toolchain rustup
guessing game number secret input loop variable variables mutable immutable constant shadowing type types integer float
boolean character tuple array slice slices method methods generic generics macro macros unsafe async await future futures
web server request response http tcp listener file files read write path directory document documents chunk chunks embed
embedding embeddings vector vectors index query queries search retrieval answer question model local event events log ledger
replay pipeline version database table column row sqlite lance editor extension code open save run build command line
hello world print println main fn let mut pub use mod struct self super crate std io collections
`
  .split(/\s+/)
  .filter((w) => w.length > 0);

const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

function vocabulary(extra: readonly string[]): string[] {
  const letters = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('');
  const punct = ['.', ',', '!', '?', "'", '-', '(', ')', ':', ';', '/', '_', '"', '{', '}', '[', ']', '<', '>', '=', '&', '*', '#', '+'];
  return [...new Set([...SPECIAL, ...letters, ...letters.map((c) => `##${c}`), ...WORDS, ...extra.map((w) => w.toLowerCase()), ...punct])];
}

/**
 * Writes the model under `root/<TINY_MODEL_ID>` unless it is already there, and returns `root`
 * (the folder to pass as the local model folder). Deterministic: the same words give the same model.
 * `words` extends the vocabulary (benchmarks add a corpus's words, so that tokens are words, not letters);
 * give such a model its own `id`.
 */
export function ensureTinyModel(root: string, dims = TINY_MODEL_DIMS, options: { id?: string; words?: readonly string[] } = {}): string {
  const dir = join(root, ...(options.id ?? TINY_MODEL_ID).split('/'));
  if (existsSync(join(dir, 'onnx', 'model.onnx'))) return root;
  const vocabList = vocabulary(options.words ?? []);
  const vocab = Object.fromEntries(vocabList.map((t, i) => [t, i]));
  const V = vocabList.length;
  let seed = 12345;
  const rnd = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296 - 0.5;
  const f32 = (n: number): Float32Array => Float32Array.from({ length: n }, rnd);
  const T = onnx.TensorProto.DataType;
  const INT = onnx.AttributeProto.AttributeType.INT;
  const init = (name: string, dimsOf: number[], arr: Float32Array): unknown => ({ name, dims: dimsOf, dataType: T.FLOAT, rawData: new Uint8Array(arr.buffer) });
  const vi = (name: string, elemType: number, shape: (string | number)[]): unknown => ({
    name,
    type: { tensorType: { elemType, shape: { dim: shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
  const graph = {
    name: 'tiny_bert',
    node: [
      { opType: 'Gather', input: ['word_emb', 'input_ids'], output: ['we'], name: 'g1', attribute: [{ name: 'axis', type: INT, i: 0 }] },
      { opType: 'Gather', input: ['type_emb', 'token_type_ids'], output: ['te'], name: 'g2', attribute: [{ name: 'axis', type: INT, i: 0 }] },
      { opType: 'Add', input: ['we', 'te'], output: ['h'], name: 'add' },
      { opType: 'Tanh', input: ['h'], output: ['h2'], name: 'tanh' },
      { opType: 'Cast', input: ['attention_mask'], output: ['mf'], name: 'cast', attribute: [{ name: 'to', type: INT, i: T.FLOAT }] },
      { opType: 'Unsqueeze', input: ['mf', 'axes'], output: ['mf3'], name: 'unsq' },
      { opType: 'Mul', input: ['h2', 'mf3'], output: ['last_hidden_state'], name: 'mul' },
    ],
    initializer: [init('word_emb', [V, dims], f32(V * dims)), init('type_emb', [2, dims], new Float32Array(2 * dims)), { name: 'axes', dims: [1], dataType: T.INT64, int64Data: [-1] }],
    input: [vi('input_ids', T.INT64, ['batch_size', 'sequence_length']), vi('attention_mask', T.INT64, ['batch_size', 'sequence_length']), vi('token_type_ids', T.INT64, ['batch_size', 'sequence_length'])],
    output: [vi('last_hidden_state', T.FLOAT, ['batch_size', 'sequence_length', dims])],
  };
  const model = onnx.ModelProto.create({ irVersion: 8, producerName: 'rag-ledger-tests', opsetImport: [{ domain: '', version: 13 }], graph });
  const st = (id: string): unknown => ({ id, type_id: 0 });
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL.map((t, i) => ({ id: i, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: st('[CLS]') }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: st('[SEP]') }],
      pair: [{ SpecialToken: st('[CLS]') }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: st('[SEP]') }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
  // Write into a temporary folder and rename, so concurrent test files never see half a model.
  const tmp = `${dir}.tmp-${process.pid}`;
  mkdirSync(join(tmp, 'onnx'), { recursive: true });
  writeFileSync(join(tmp, 'onnx', 'model.onnx'), onnx.ModelProto.encode(model).finish());
  writeFileSync(join(tmp, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(
    join(tmp, 'tokenizer_config.json'),
    JSON.stringify({ tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: 512, cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]', mask_token: '[MASK]' }),
  );
  writeFileSync(
    join(tmp, 'config.json'),
    JSON.stringify({ model_type: 'bert', architectures: ['BertModel'], hidden_size: dims, vocab_size: V, num_hidden_layers: 1, num_attention_heads: 1, intermediate_size: dims, max_position_embeddings: 512, type_vocab_size: 2, pad_token_id: 0 }),
  );
  mkdirSync(join(dir, '..'), { recursive: true });
  try {
    renameSync(tmp, dir);
  } catch (err) {
    if (!existsSync(join(dir, 'onnx', 'model.onnx'))) throw err; // another process won the race
  }
  return root;
}
