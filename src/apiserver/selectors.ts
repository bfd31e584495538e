// Label and field selectors with upstream's grammar and error sentences
// (k8s.io/apimachinery/pkg/labels and pkg/fields), written from their documented behaviour.

export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  readonly values: readonly string[];
}

export interface LabelSelector {
  readonly requirements: readonly LabelRequirement[];
  /** True when the selector selects everything. */
  readonly empty: boolean;
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
}

export class SelectorParseError extends Error {
  override readonly name = 'SelectorParseError';
}

type TokenKind =
  | 'ident'
  | 'eos'
  | 'comma'
  | 'not'
  | 'eq'
  | 'deq'
  | 'neq'
  | 'in'
  | 'notin'
  | 'open'
  | 'close'
  | 'gt'
  | 'lt'
  | 'error';

interface Token {
  readonly kind: TokenKind;
  readonly lit: string;
}

const SPECIAL_TOKENS: ReadonlyMap<string, TokenKind> = new Map([
  ['!', 'not'],
  ['!=', 'neq'],
  ['=', 'eq'],
  ['==', 'deq'],
  ['(', 'open'],
  [')', 'close'],
  [',', 'comma'],
  ['>', 'gt'],
  ['<', 'lt'],
]);
const SPECIAL_CHARS = new Set(['!', '=', '(', ')', ',', '>', '<']);

function isWhitespace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

function tokenize(input: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (isWhitespace(c)) {
      i++;
      continue;
    }
    if (SPECIAL_CHARS.has(c)) {
      let buf = c;
      i++;
      while (i < input.length && SPECIAL_TOKENS.has(buf + input[i]!)) buf += input[i++]!;
      const kind = SPECIAL_TOKENS.get(buf);
      out.push(kind ? { kind, lit: buf } : { kind: 'error', lit: buf });
      continue;
    }
    let j = i;
    while (j < input.length && !isWhitespace(input[j]!) && !SPECIAL_CHARS.has(input[j]!)) j++;
    const word = input.slice(i, j);
    i = j;
    out.push({ kind: word === 'in' ? 'in' : word === 'notin' ? 'notin' : 'ident', lit: word });
  }
  out.push({ kind: 'eos', lit: '' });
  return out;
}

const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function validateLabelKey(key: string): void {
  const slash = key.indexOf('/');
  const name = slash < 0 ? key : key.slice(slash + 1);
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const problems: string[] = [];
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    problems.push('prefix part must be a lowercase RFC 1123 subdomain');
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME_PART.test(name))
    problems.push(
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
    );
  if (problems.length)
    throw new SelectorParseError(`key: Invalid value: ${JSON.stringify(key)}: ${problems.join(', ')}`);
}

function validateLabelValue(key: string, value: string): void {
  if (value.length > 63 || !LABEL_VALUE.test(value))
    throw new SelectorParseError(
      `values[0][${key}]: Invalid value: ${JSON.stringify(value)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    );
}

class LabelParser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}
  private peek(): Token {
    return this.tokens[this.pos]!;
  }
  private next(): Token {
    const t = this.tokens[this.pos]!;
    if (t.kind !== 'eos') this.pos++;
    return t;
  }
  /** In value position keywords are plain identifiers. */
  private nextValue(): Token {
    const t = this.next();
    return t.kind === 'in' || t.kind === 'notin' ? { kind: 'ident', lit: t.lit } : t;
  }
  private peekValue(): Token {
    const t = this.peek();
    return t.kind === 'in' || t.kind === 'notin' ? { kind: 'ident', lit: t.lit } : t;
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (;;) {
      const t = this.peekValue();
      if (t.kind === 'eos') return reqs;
      if (t.kind !== 'ident' && t.kind !== 'not')
        throw new SelectorParseError(`found '${t.lit}', expected: !, identifier, or 'end of string'`);
      try {
        reqs.push(this.requirement());
      } catch (err) {
        throw new SelectorParseError(`unable to parse requirement: ${(err as Error).message}`);
      }
      const sep = this.nextValue();
      if (sep.kind === 'eos') return reqs;
      if (sep.kind !== 'comma')
        throw new SelectorParseError(`found '${sep.lit}', expected: ',' or 'end of string'`);
      const after = this.peekValue();
      if (after.kind !== 'ident' && after.kind !== 'not')
        throw new SelectorParseError(`found '${after.lit}', expected: identifier after ','`);
    }
  }

  private requirement(): LabelRequirement {
    let t = this.nextValue();
    let negated = false;
    if (t.kind === 'not') {
      negated = true;
      t = this.nextValue();
    }
    if (t.kind !== 'ident') throw new SelectorParseError(`found '${t.lit}', expected: identifier`);
    const key = t.lit;
    validateLabelKey(key);
    const after = this.peekValue();
    if (after.kind === 'eos' || after.kind === 'comma')
      return { key, operator: negated ? '!' : 'exists', values: [] };
    if (negated) {
      // "!key" followed by anything but the end: upstream reports the operator it found.
      const op = this.next();
      throw new SelectorParseError(`found '${op.lit}', expected: ',' or 'end of string'`);
    }
    const opTok = this.next();
    let operator: LabelOperator;
    switch (opTok.kind) {
      case 'in':
        operator = 'in';
        break;
      case 'notin':
        operator = 'notin';
        break;
      case 'eq':
        operator = '=';
        break;
      case 'deq':
        operator = '==';
        break;
      case 'neq':
        operator = '!=';
        break;
      case 'gt':
        operator = 'gt';
        break;
      case 'lt':
        operator = 'lt';
        break;
      case 'close':
      case 'comma':
      case 'eos':
      case 'error':
      case 'ident':
      case 'not':
      case 'open':
        throw new SelectorParseError(`found '${opTok.lit}', expected: ${BINARY_OPERATORS}`);
    }
    let values: string[];
    if (operator === 'in' || operator === 'notin') {
      const open = this.next();
      if (open.kind !== 'open') throw new SelectorParseError(`found '${open.lit}', expected: '('`);
      values = this.valueList();
      if (values.length === 0)
        throw new SelectorParseError(
          `values: Required value: for 'in', 'notin' operators, values set can't be empty`,
        );
    } else {
      const v = this.peekValue();
      if (v.kind === 'eos' || v.kind === 'comma') values = [''];
      else if (v.kind === 'ident') {
        this.next();
        values = [v.lit];
      } else throw new SelectorParseError(`found '${v.lit}', expected: identifier`);
    }
    if (operator === 'gt' || operator === 'lt') {
      if (values.length !== 1 || !/^-?\d+$/.test(values[0]!))
        throw new SelectorParseError(
          `values[0]: Invalid value: ${JSON.stringify(values[0] ?? '')}: for 'Gt', 'Lt' operators, the value must be an integer`,
        );
    } else {
      for (const v of values) validateLabelValue(key, v);
    }
    return { key, operator, values };
  }

  private valueList(): string[] {
    const values: string[] = [];
    let expectValue = true;
    for (;;) {
      const t = this.nextValue();
      if (t.kind === 'close') {
        if (expectValue && values.length > 0) values.push('');
        return values;
      }
      if (t.kind === 'ident') {
        if (!expectValue) throw new SelectorParseError(`found '${t.lit}', expected: ',' or ')'`);
        values.push(t.lit);
        expectValue = false;
        continue;
      }
      if (t.kind === 'comma') {
        if (expectValue) values.push('');
        expectValue = true;
        continue;
      }
      throw new SelectorParseError(`found '${t.lit}', expected: ',', or identifier`);
    }
  }
}

function matchRequirement(
  r: LabelRequirement,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
  const value = has ? labels[r.key]! : undefined;
  switch (r.operator) {
    case 'exists':
      return has;
    case '!':
      return !has;
    case '=':
    case '==':
    case 'in':
      return has && r.values.includes(value!);
    case '!=':
    case 'notin':
      return !has || !r.values.includes(value!);
    case 'gt':
    case 'lt': {
      if (!has || !/^-?\d+$/.test(value!)) return false;
      const n = Number(value);
      const bound = Number(r.values[0]);
      return r.operator === 'gt' ? n > bound : n < bound;
    }
  }
}

export const EVERYTHING: LabelSelector = { requirements: [], empty: true, matches: () => true };

/** Parses a labelSelector query value; throws SelectorParseError with upstream's sentence. */
export function parseLabelSelector(input: string): LabelSelector {
  if (input.trim() === '') return EVERYTHING;
  const requirements = new LabelParser(tokenize(input)).parse();
  return {
    requirements,
    empty: requirements.length === 0,
    matches: (labels) => requirements.every((r) => matchRequirement(r, labels)),
  };
}

// ---------------------------------------------------------------------------------------------
// Field selectors: comma-separated `key=value`, `key==value`, `key!=value` with backslash escapes.

export interface FieldRequirement {
  readonly field: string;
  readonly operator: '=' | '==' | '!=';
  readonly value: string;
}

export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  readonly empty: boolean;
  /** `get(field)` returns the object's value of a (validated) field. */
  matches(get: (field: string) => string | undefined): boolean;
}

function splitTerms(input: string): string[] {
  const terms: string[] = [];
  let start = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c === '\\') i++;
    else if (c === ',') {
      terms.push(input.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(input.slice(start));
  return terms;
}

const FIELD_OPERATORS = ['!=', '==', '='] as const;

function splitTerm(term: string): FieldRequirement | undefined {
  for (let i = 0; i < term.length; i++) {
    if (term[i] === '\\') {
      i++;
      continue;
    }
    const rest = term.slice(i);
    for (const op of FIELD_OPERATORS) {
      if (rest.startsWith(op))
        return { field: term.slice(0, i), operator: op, value: term.slice(i + op.length) };
    }
  }
  return undefined;
}

function unescapeValue(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const n = s[i + 1];
      if (n === undefined)
        throw new SelectorParseError(`invalid field selector: unterminated escape sequence in ${s}`);
      if (n !== '\\' && n !== ',' && n !== '=')
        throw new SelectorParseError(`invalid field selector: invalid escape sequence: \\${n}`);
      out += n;
      i++;
    } else if (c === ',' || c === '=') {
      throw new SelectorParseError(`invalid field selector: unescaped ${c} in value: ${s}`);
    } else out += c;
  }
  return out;
}

export const EVERYTHING_FIELDS: FieldSelector = { requirements: [], empty: true, matches: () => true };

/**
 * Parses a fieldSelector; `supported` decides which field names are known (unknown ones fail with
 * "field label not supported: NAME", as the legacy conversion functions say).
 */
export function parseFieldSelector(input: string, supported: (field: string) => boolean): FieldSelector {
  if (input.trim() === '') return EVERYTHING_FIELDS;
  const requirements: FieldRequirement[] = [];
  for (const part of splitTerms(input).sort()) {
    if (part === '') continue;
    const term = splitTerm(part);
    if (!term) throw new SelectorParseError(`invalid selector: '${input}'; can't understand '${part}'`);
    requirements.push({ ...term, value: unescapeValue(term.value) });
  }
  for (const r of requirements)
    if (!supported(r.field)) throw new SelectorParseError(`field label not supported: ${r.field}`);
  return {
    requirements,
    empty: requirements.length === 0,
    matches: (get) =>
      requirements.every((r) => {
        const v = get(r.field) ?? '';
        return r.operator === '!=' ? v !== r.value : v === r.value;
      }),
  };
}

/** The single name a field selector pins down (metadata.name=x), for a cheap get instead of a list. */
export function pinnedField(sel: FieldSelector, field: string): string | undefined {
  const r = sel.requirements.find((x) => x.field === field && x.operator !== '!=');
  return r?.value;
}
