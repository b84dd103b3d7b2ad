/** `imslab analyse`: judging captures made anywhere, without our probe. */
export { analyseCaptures, type AnalyseCapturesInput } from './analyse-captures.ts';
export { readKeyFile, canonicalInline, type FileKey } from './key-file.ts';
export { readSecretsBlocks } from './secrets-block.ts';
export { weakest } from './verdict.ts';
export type * from './types.ts';
