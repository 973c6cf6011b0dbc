/**
 * RFC 4180 CSV: comma-separated cells, double-quoted cells may hold commas, line breaks and `""`
 * for a quote; CRLF or LF line ends; blank lines are skipped. Each record keeps the spreadsheet row
 * it starts on (the header is row 1), so errors can name it.
 */
import { PriorResultsError } from './prior-results-error.js';

export interface CsvRecord {
  row: number;
  cells: string[];
}

export function parseCsv(text: string): CsvRecord[] {
  const out: CsvRecord[] = [];
  let row = 1;
  let line = 1;
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let quoteLine = 0;
  let wasQuoted = false;
  const endCell = (): void => {
    cells.push(cell);
    cell = '';
    wasQuoted = false;
  };
  const endRecord = (): void => {
    endCell();
    if (!(cells.length === 1 && cells[0] === '')) out.push({ row: row++, cells });
    cells = [];
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        cell += ch;
      }
      continue;
    }
    if (ch === '"') {
      if (cell.trim() !== '' || wasQuoted) {
        throw new PriorResultsError(`row ${row}, column ${cells.length + 1}: a quote inside an unquoted cell; quote the whole cell and double the quotes inside ("a ""b"" c")`);
      }
      cell = '';
      quoted = true;
      wasQuoted = true;
      quoteLine = line;
    } else if (ch === ',') endCell();
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
    } else if (wasQuoted) {
      if (ch !== ' ' && ch !== '\t') throw new PriorResultsError(`row ${row}, column ${cells.length + 1}: text after the closing quote of a quoted cell`);
    } else cell += ch;
  }
  if (quoted) throw new PriorResultsError(`row ${row}, column ${cells.length + 1}: a quoted cell opened on line ${quoteLine} is never closed`);
  endRecord();
  return out;
}
