// The compiler's vocabulary, read from its C# sources: the structure names (StructureRegistry.All and each
// structure's Spec), the core forms (CoreForms in Semantics/Specs.cs), the option words (every ArgumentSpec of
// kind Option) and the keywords (the quoted words of grammar/StructMat.g4). Each reader also counts what it
// expects to find some other way and throws when the counts differ, so a spec written in a shape these
// patterns miss fails the test instead of quietly shrinking a list.

import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../..');
const compiler = path.join(repoRoot, 'src/StructMat.Compiler');

const read = (...parts) => readFileSync(path.join(...parts), 'utf8');

function specName(source, file) {
  const names = [...source.matchAll(/PrimitiveSpec\s+Spec\s*\{\s*get;\s*\}\s*=\s*new\(\s*"([^"]+)"/g)].map((m) => m[1]);
  if (names.length !== 1) throw new Error(`${file}: expected one 'PrimitiveSpec Spec { get; } = new("name", …)', found ${names.length}`);
  return names[0];
}

/** StructureRegistry.All's structures, in its order, each by its Spec name. */
export function structureNames() {
  const registry = read(compiler, 'Structures/StructureRegistry.cs');
  const all = registry.match(/All\s*=\s*new\s+Structure\[\]\s*\{([^}]*)\}/);
  if (!all) throw new Error('StructureRegistry.cs: `All = new Structure[] { … }` not found');
  const classes = [...all[1].matchAll(/(\w+)\.Instance/g)].map((m) => m[1]);
  const entries = all[1].split(',').map((s) => s.trim()).filter(Boolean);
  if (classes.length === 0 || classes.length !== entries.length) {
    throw new Error(`StructureRegistry.All: ${entries.length} entries, but ${classes.length} of the form X.Instance`);
  }
  const files = readdirSync(path.join(compiler, 'Structures')).filter((f) => f.endsWith('.cs'));
  return classes.map((cls) => {
    const file = files.find((f) => new RegExp(`\\bclass\\s+${cls}\\b`).test(read(compiler, 'Structures', f)));
    if (!file) throw new Error(`StructureRegistry.All names ${cls}, but no file in Structures/ declares class ${cls}`);
    return specName(read(compiler, 'Structures', file), file);
  });
}

/** The CoreForms specs' names (kron, hadamard, normalize). */
export function coreFormNames() {
  const specs = read(compiler, 'Semantics/Specs.cs');
  const core = specs.slice(specs.indexOf('class CoreForms'));
  const names = [...core.matchAll(/PrimitiveSpec\s+\w+\s*=\s*new\(\s*"([^"]+)"/g)].map((m) => m[1]);
  const declared = [...core.matchAll(/static\s+readonly\s+PrimitiveSpec\s/g)].length;
  if (names.length === 0 || names.length !== declared) throw new Error(`CoreForms: ${declared} specs declared, ${names.length} read`);
  return names;
}

/** Every option word of every ArgumentSpec of kind Option, in the structures and the core forms. */
export function optionValues() {
  const sources = readdirSync(path.join(compiler, 'Structures'))
    .filter((f) => f.endsWith('.cs'))
    .map((f) => read(compiler, 'Structures', f))
    .concat(read(compiler, 'Semantics/Specs.cs'));
  const values = [];
  let optionSpecs = 0;
  for (const source of sources) {
    optionSpecs += [...source.matchAll(/ArgumentKind\.Option\s*,/g)].length;
    for (const m of source.matchAll(/new\s+ArgumentSpec\(\s*"\w+"\s*,\s*ArgumentKind\.Option\s*,\s*(?:true|false)\s*,\s*"[^"]*"((?:\s*,\s*"[^"]*")+)\s*\)/g)) {
      values.push(...[...m[1].matchAll(/"([^"]*)"/g)].map((v) => v[1]));
      optionSpecs--;
    }
  }
  if (optionSpecs !== 0) throw new Error(`${optionSpecs} ArgumentSpec(s) of kind Option not in the form new ArgumentSpec("name", ArgumentKind.Option, req, "example", "word", …)`);
  return [...new Set(values)];
}

/** The quoted words of the ANTLR grammar ('namespace', 'const', …): its keywords. */
export function grammarKeywords() {
  // Comments out first (they quote words too), keeping quoted literals such as '//' that hold comment marks.
  const g4 = read(repoRoot, 'grammar/StructMat.g4').replace(/^((?:[^'\n/]|'[^'\n]*'|\/(?!\/))*)\/\/.*$/gm, '$1');
  return [...new Set([...g4.matchAll(/'([A-Za-z_]+)'/g)].map((m) => m[1]))];
}

/** CoreForms.Bias, the word that adds a bias. */
export function biasWord() {
  const m = read(compiler, 'Semantics/Specs.cs').match(/const\s+string\s+Bias\s*=\s*"([^"]+)"/);
  if (!m) throw new Error('Specs.cs: `const string Bias = "…"` not found');
  return m[1];
}
