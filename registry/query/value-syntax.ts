/**
 * The value syntax of stored query parameters (ITI TF-2a 3.18.4.1.2.3.5): one rim:Value holds
 * either a single-quoted string (`'it''s'`, a quote doubled to escape it), an unquoted number
 * (times), or a parenthesised comma-separated list of those (`('a', 'b')`).
 */

export type ScalarKind = 'string' | 'number';

export interface Scalar {
  readonly kind: ScalarKind;
  readonly text: string;
}

/** A value that does not follow the syntax; the message says where it went wrong. */
export class ValueSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValueSyntaxError';
  }
}

/** Parses one rim:Value into its scalars: one for a scalar, the elements for a list. */
export function parseValue(raw: string): Scalar[] {
  const reader = new Reader(raw);
  reader.skipSpace();
  let scalars: Scalar[];
  if (reader.peek() === '(') {
    reader.next();
    scalars = [];
    reader.skipSpace();
    if (reader.peek() === ')') throw new ValueSyntaxError(`empty list in ${quoteForMessage(raw)}`);
    for (;;) {
      scalars.push(reader.scalar());
      reader.skipSpace();
      const c = reader.next();
      if (c === ')') break;
      if (c !== ',') throw new ValueSyntaxError(`expected ',' or ')' at position ${reader.pos} in ${quoteForMessage(raw)}`);
    }
  } else {
    scalars = [reader.scalar()];
  }
  reader.skipSpace();
  if (!reader.atEnd()) throw new ValueSyntaxError(`unexpected text after the value at position ${reader.pos + 1} in ${quoteForMessage(raw)}`);
  return scalars;
}

class Reader {
  pos = 0;
  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  next(): string | undefined {
    return this.text[this.pos++];
  }

  skipSpace(): void {
    while (!this.atEnd() && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  scalar(): Scalar {
    this.skipSpace();
    const c = this.peek();
    if (c === "'") return { kind: 'string', text: this.quoted() };
    const start = this.pos;
    // Unquoted values are numbers only (DTM times); an unquoted word is a syntax error.
    while (!this.atEnd() && /[0-9]/.test(this.text[this.pos]!)) this.pos++;
    if (this.pos === start) {
      throw new ValueSyntaxError(
        this.atEnd()
          ? `missing value in ${quoteForMessage(this.text)}`
          : `expected a quoted string or a number at position ${start + 1} in ${quoteForMessage(this.text)}`,
      );
    }
    return { kind: 'number', text: this.text.slice(start, this.pos) };
  }

  private quoted(): string {
    this.pos++; // opening quote
    let out = '';
    for (;;) {
      const c = this.next();
      if (c === undefined) throw new ValueSyntaxError(`unterminated string in ${quoteForMessage(this.text)}`);
      if (c === "'") {
        if (this.peek() === "'") {
          out += "'";
          this.pos++;
          continue;
        }
        return out;
      }
      out += c;
    }
  }
}

function quoteForMessage(raw: string): string {
  return JSON.stringify(raw.length > 200 ? `${raw.slice(0, 200)}…` : raw);
}
