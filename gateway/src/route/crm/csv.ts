/*
 * A CSV reader (RFC 4180) that keeps going past a bad record and says on which line it was, so one
 * stray quote in a spreadsheet export costs one row, not the file:
 * - fields separated by `,`, records by CRLF (LF and a lone CR accepted too, as spreadsheets write them);
 * - a field in double quotes may hold commas and line breaks, and `""` stands for one quote (§2.5-2.7);
 * - a UTF-8 byte order mark is skipped; blank lines are skipped.
 * Line numbers are physical lines (1-based): a record's is the line it starts on.
 */

export interface CsvRecord {
  line: number;
  fields: string[];
}

export interface CsvProblem {
  line: number;
  message: string;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

export function readCsv(text: string): { records: CsvRecord[]; problems: CsvProblem[] } {
  const records: CsvRecord[] = [];
  const problems: CsvProblem[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;

  /** Index after the line break at or after `from` (or the end), counting the line. */
  const nextLine = (from: number): number => {
    let j = from;
    while (j < n && text.charCodeAt(j) !== CR && text.charCodeAt(j) !== LF) j++;
    if (j >= n) return n;
    line++;
    return text.charCodeAt(j) === CR && text.charCodeAt(j + 1) === LF ? j + 2 : j + 1;
  };

  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let quoted = false;
    let problem: CsvProblem | undefined;
    let resumeAt = 0;
    for (;;) {
      if (text.charCodeAt(i) === QUOTE) {
        quoted = true;
        const openedAt = i;
        const openedLine = line;
        const value = readQuoted(text, i + 1);
        if (value.end < 0) {
          // No closing quote anywhere after: give up on this line only, so the rows after it import.
          problem = { line: openedLine, message: 'a quoted field is never closed (a " is missing)' };
          resumeAt = nextLine(openedAt);
          break;
        }
        fields.push(value.text);
        line += value.lineBreaks;
        i = value.end;
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === COMMA || c === CR || c === LF) break;
          j++;
        }
        const value = text.slice(i, j);
        if (value.includes('"')) {
          problem = {
            line,
            message: 'a quote inside an unquoted field (put the whole field in quotes and double the quote)',
          };
          resumeAt = nextLine(i);
          break;
        }
        fields.push(value);
        i = j;
      }
      if (i >= n) break;
      const c = text.charCodeAt(i);
      if (c === COMMA) {
        i++;
        continue;
      }
      if (c === CR || c === LF) {
        i = nextLine(i);
        break;
      }
      problem = { line, message: 'text after the closing quote of a field (expected a comma or a line end)' };
      resumeAt = nextLine(i);
      break;
    }
    if (problem) {
      problems.push(problem);
      i = resumeAt;
      continue;
    }
    if (fields.length === 1 && fields[0] === '' && !quoted) continue;
    records.push({ line: startLine, fields });
  }
  return { records, problems };
}

/** The quoted field starting after its opening quote at `from`; `end` is after the closing quote, -1 if none. */
function readQuoted(text: string, from: number): { text: string; end: number; lineBreaks: number } {
  let value = '';
  let j = from;
  for (;;) {
    const q = text.indexOf('"', j);
    if (q < 0) return { text: '', end: -1, lineBreaks: 0 };
    value += text.slice(j, q);
    if (text.charCodeAt(q + 1) === QUOTE) {
      value += '"';
      j = q + 2;
      continue;
    }
    const lineBreaks = (value.match(/\r\n|\r|\n/g) ?? []).length;
    // A value keeps its line breaks, the same whatever system wrote the file.
    return { text: value.replace(/\r\n?/g, '\n'), end: q + 1, lineBreaks };
  }
}
