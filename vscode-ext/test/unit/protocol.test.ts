/**
 * protocol.ts against the server's declaration of the wire (py_server/flowscribe_lsp/protocol.py,
 * exported as src/common/protocol.schema.json; a Python test keeps that file current): every
 * payload the schema defines has an interface here with the same fields, the same optionality
 * and the same nullability, so the two sides cannot drift apart silently.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

interface JsonSchema {
  type?: string;
  $ref?: string;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
}

const root = join(__dirname, '..', '..');
const schema = JSON.parse(readFileSync(join(root, 'src/common/protocol.schema.json'), 'utf8')) as {
  methods: Record<string, string>;
  $defs: Record<string, JsonSchema>;
};
const source = ts.createSourceFile(
  'protocol.ts',
  readFileSync(join(root, 'src/common/protocol.ts'), 'utf8'),
  ts.ScriptTarget.ES2022,
  true,
);

const interfaces = new Map<string, ts.InterfaceDeclaration>();
const aliases = new Map<string, ts.TypeAliasDeclaration>();
let methods: ts.ObjectLiteralExpression | undefined;
source.forEachChild((node) => {
  if (ts.isInterfaceDeclaration(node)) {
    interfaces.set(node.name.text, node);
  } else if (ts.isTypeAliasDeclaration(node)) {
    aliases.set(node.name.text, node);
  } else if (ts.isVariableStatement(node)) {
    for (const d of node.declarationList.declarations) {
      if (ts.isIdentifier(d.name) && d.name.text === 'Methods' && d.initializer) {
        const init = ts.isAsExpression(d.initializer) ? d.initializer.expression : d.initializer;
        if (ts.isObjectLiteralExpression(init)) {
          methods = init;
        }
      }
    }
  }
});

function nullable(s: JsonSchema): boolean {
  return s.type === 'null' || (s.anyOf ?? []).some(nullable);
}

function tsNullable(t: ts.TypeNode): boolean {
  return ts.isUnionTypeNode(t) && t.types.some((m) => ts.isLiteralTypeNode(m) && m.literal.kind === ts.SyntaxKind.NullKeyword);
}

/** The type names a schema property refers to (`#/$defs/X` -> X), through arrays and unions. */
function refs(s: JsonSchema): string[] {
  const own = s.$ref ? [s.$ref.replace('#/$defs/', '')] : [];
  return [...own, ...(s.items ? refs(s.items) : []), ...(s.anyOf ?? []).flatMap(refs)];
}

function tsNames(t: ts.TypeNode): string[] {
  if (ts.isTypeReferenceNode(t)) {
    return [t.typeName.getText(source)];
  }
  if (ts.isArrayTypeNode(t)) {
    return tsNames(t.elementType);
  }
  if (ts.isUnionTypeNode(t)) {
    return t.types.flatMap(tsNames);
  }
  return [];
}

function literals(alias: ts.TypeAliasDeclaration): string[] {
  const t = alias.type;
  const members = ts.isUnionTypeNode(t) ? t.types : [t];
  return members.flatMap((m) => (ts.isLiteralTypeNode(m) && ts.isStringLiteral(m.literal) ? [m.literal.text] : []));
}

describe('protocol.ts matches the server protocol schema', () => {
  for (const [name, def] of Object.entries(schema.$defs)) {
    it(`${name}: same fields, optionality and nullability`, () => {
      const decl = interfaces.get(name);
      assert.ok(decl, `protocol.ts has no interface ${name}`);
      const props = new Map<string, ts.PropertySignature>();
      for (const m of decl.members) {
        if (ts.isPropertySignature(m) && m.type) {
          props.set(m.name.getText(source), m);
        }
      }
      assert.deepEqual([...props.keys()].sort(), Object.keys(def.properties ?? {}).sort(), `${name}'s fields`);
      const required = new Set(def.required ?? []);
      for (const [key, prop] of Object.entries(def.properties ?? {})) {
        const sig = props.get(key)!;
        assert.equal(!sig.questionToken, required.has(key), `${name}.${key} optional?`);
        assert.equal(tsNullable(sig.type!), nullable(prop), `${name}.${key} nullable?`);
        for (const ref of refs(prop)) {
          assert.ok(tsNames(sig.type!).includes(ref), `${name}.${key} should be a ${ref}`);
        }
        if (prop.enum) {
          const alias = tsNames(sig.type!).map((n) => aliases.get(n)).find(Boolean);
          assert.ok(alias, `${name}.${key} should name a type alias of its values`);
          assert.deepEqual(literals(alias).sort(), (prop.enum as string[]).slice().sort(), `${name}.${key} values`);
        }
      }
    });
  }

  it('names every custom method the server answers', () => {
    assert.ok(methods, 'protocol.ts exports Methods');
    const here = Object.fromEntries(
      methods.properties.filter(ts.isPropertyAssignment).map((p) => [p.name.getText(source), (p.initializer as ts.StringLiteral).text]),
    );
    for (const [key, method] of Object.entries(schema.methods)) {
      assert.equal(here[key], method, `Methods.${key}`);
    }
  });
});
