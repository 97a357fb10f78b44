// Loads syntaxes/smx.tmLanguage.json with vscode-textmate on the Oniguruma engine VS Code itself uses, and
// tokenises text line by line as the editor does (the rule stack carries block comments across lines).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import vsctm from 'vscode-textmate';
import oniguruma from 'vscode-oniguruma';

const require = createRequire(import.meta.url);
const grammarPath = new URL('../../syntaxes/smx.tmLanguage.json', import.meta.url);

async function loadGrammar() {
  const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== 'source.smx') return null;
      return vsctm.parseRawGrammar(readFileSync(grammarPath, 'utf8'), grammarPath.pathname);
    },
  });
  const grammar = await registry.loadGrammar('source.smx');
  if (!grammar) throw new Error(`vscode-textmate could not load ${grammarPath.pathname}`);
  return grammar;
}

const grammarPromise = loadGrammar();

/**
 * Tokenises a whole text. Lines end at '\n' as ANTLR counts them ('\r' before it belongs to the line break).
 * Returns one entry per line: { text, tokens: [{ start, end, scopes }] } with UTF-16 offsets.
 */
export async function tokenize(text) {
  const grammar = await grammarPromise;
  let state = vsctm.INITIAL;
  return text.split(/\r?\n/).map((line) => {
    const result = grammar.tokenizeLine(line, state);
    state = result.ruleStack;
    const tokens = result.tokens.map((t) => ({ start: t.startIndex, end: t.endIndex, scopes: t.scopes }));
    return { text: line, tokens };
  });
}

/** The token of a tokenised line that covers the UTF-16 offset. */
export function tokenAt(line, offset) {
  return line.tokens.find((t) => t.start <= offset && offset < t.end);
}
