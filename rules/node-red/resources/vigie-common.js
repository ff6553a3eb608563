// Field checks shared by the editor (loaded as resources/@vigie/node-red-vigie/vigie-common.js)
// and the runtime (require): one set of rules, so the editor flags exactly what deploy rejects.
// Mirrors rules/src (duration.ts, parse.ts, parse-condition.ts); keep them in step.
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.VigieCommon = factory();
})(typeof globalThis !== 'undefined' ? globalThis : this, function () {
  'use strict';

  var RULE_ID = /^[a-z0-9][a-z0-9-]*$/;
  var SOURCE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
  var SEVERITIES = ['critical', 'major', 'minor', 'warning'];
  var CONDITION_TYPES = [
    'state',
    'threshold',
    'absence',
    'status',
    'schedule',
    'badge',
    'count',
    'expression',
  ];
  var NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

  /** rules/src/duration.ts parseDuration: `500ms`, `30s`, `5m`, `1h30m`; bare numbers are refused. */
  function parseDuration(text) {
    if (typeof text !== 'string') return undefined;
    var s = text.trim();
    if (s.length === 0) return undefined;
    var part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
    var unit = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 };
    var total = 0;
    while (part.lastIndex < s.length) {
      var start = part.lastIndex;
      var m = part.exec(s);
      if (!m || m.index !== start) return undefined;
      total += Number(m[1]) * unit[m[2]];
    }
    return Math.round(total);
  }

  function isDuration(text) {
    return parseDuration(text) !== undefined;
  }

  function text(v) {
    return v === undefined || v === null ? '' : String(v).trim();
  }

  /** "a, b ,c" -> ['a', 'b', 'c']; arrays pass through (flows written by hand may use them). */
  function list(v) {
    var items = Array.isArray(v) ? v.map(text) : text(v).split(',');
    return items.map(text).filter(function (s) {
      return s.length > 0;
    });
  }

  /** A number typed as text; undefined when it is not one. */
  function toNumber(v) {
    if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
    var s = text(v);
    return NUMBER.test(s) ? Number(s) : undefined;
  }

  /** A state value as YAML would read it: true/false/null/number, else the text itself. */
  function scalar(s) {
    if (s === 'true') return true;
    if (s === 'false') return false;
    if (s === 'null' || s === '~') return null;
    if (NUMBER.test(s)) return Number(s);
    return s;
  }

  // ---- a YAML subset for the free-form fields (count.where, an expression, engage steps) ----
  // The package has no YAML dependency: JSON, block maps and lists, flow maps/lists and plain or
  // quoted scalars cover what a condition or a list of steps needs. Anything else is an error.

  function fail(line, message) {
    var e = new Error('line ' + line + ': ' + message);
    e.line = line;
    throw e;
  }

  function stripComment(line) {
    var quote = null;
    for (var i = 0; i < line.length; i++) {
      var c = line[i];
      if (quote) {
        if (c === quote) quote = null;
      } else if (c === '"' || c === "'") {
        quote = c;
      } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) {
        return line.slice(0, i);
      }
    }
    return line;
  }

  function plainScalar(s, line) {
    if (s === '') return null;
    if (s[0] === '"') {
      try {
        return JSON.parse(s);
      } catch {
        fail(line, 'bad double-quoted text ' + s);
      }
    }
    if (s[0] === "'") {
      if (s.length < 2 || s[s.length - 1] !== "'") fail(line, 'unterminated quote in ' + s);
      return s.slice(1, -1).replace(/''/g, "'");
    }
    if (s[0] === '|' || s[0] === '>') fail(line, 'block scalars (| or >) are not supported here: use quotes');
    if (s[0] === '&' || s[0] === '*' || s[0] === '!')
      fail(line, 'anchors, aliases and tags are not supported');
    return scalar(s);
  }

  /** Flow collections: `{ a: 1, b: [x, y] }`. */
  function parseFlow(src, line) {
    var i = 0;
    function ws() {
      while (i < src.length && /\s/.test(src[i])) i++;
    }
    function token(stops) {
      ws();
      var c = src[i];
      if (c === '{' || c === '[') return value();
      if (c === '"' || c === "'") {
        var q = c;
        var j = i + 1;
        while (j < src.length) {
          if (src[j] === '\\' && q === '"') j += 2;
          else if (src[j] === q && q === "'" && src[j + 1] === "'") j += 2;
          else if (src[j] === q) break;
          else j++;
        }
        if (j >= src.length) fail(line, 'unterminated quote');
        var quoted = src.slice(i, j + 1);
        i = j + 1;
        return plainScalar(quoted, line);
      }
      var start = i;
      while (i < src.length && stops.indexOf(src[i]) < 0) {
        // `a:b` stays one scalar (team:security); only `: ` or `:` before a stop separates a key.
        if (src[i] === ':' && (i + 1 >= src.length || /[\s,\]}]/.test(src[i + 1]))) break;
        i++;
      }
      return plainScalar(src.slice(start, i).trim(), line);
    }
    function value() {
      ws();
      var c = src[i];
      if (c === '[') {
        i++;
        var arr = [];
        ws();
        if (src[i] === ']') {
          i++;
          return arr;
        }
        for (;;) {
          arr.push(token(',]'));
          ws();
          if (src[i] === ',') {
            i++;
            ws();
            if (src[i] === ']') {
              i++;
              return arr;
            }
            continue;
          }
          if (src[i] === ']') {
            i++;
            return arr;
          }
          fail(line, 'expected , or ] in ' + src);
        }
      }
      if (c === '{') {
        i++;
        var obj = {};
        ws();
        if (src[i] === '}') {
          i++;
          return obj;
        }
        for (;;) {
          var key = token(':,}');
          ws();
          if (src[i] !== ':') fail(line, 'expected key: value in ' + src);
          i++;
          obj[String(key)] = token(',}');
          ws();
          if (src[i] === ',') {
            i++;
            ws();
            if (src[i] === '}') {
              i++;
              return obj;
            }
            continue;
          }
          if (src[i] === '}') {
            i++;
            return obj;
          }
          fail(line, 'expected , or } in ' + src);
        }
      }
      return token('');
    }
    var v = value();
    ws();
    if (i < src.length) fail(line, 'unexpected text after the value: ' + src.slice(i));
    return v;
  }

  function balanced(s) {
    var depth = 0;
    var quote = null;
    for (var i = 0; i < s.length; i++) {
      var c = s[i];
      if (quote) {
        if (c === quote) quote = null;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') depth--;
    }
    return depth <= 0;
  }

  var KEY = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s'"{}[\],#&*!|>-][^:]*?|-[^\s:][^:]*?)\s*:(?:\s+(.*))?$/;

  function parseYamlish(source) {
    var lines = [];
    String(source)
      .replace(/\t/g, '  ')
      .split(/\r?\n/)
      .forEach(function (raw, n) {
        var t = stripComment(raw).replace(/\s+$/, '');
        if (t.trim() === '' || t.trim() === '---') return;
        lines.push({ n: n + 1, indent: t.length - t.trimStart().length, text: t.trim() });
      });
    var pos = 0;

    function inline(l, s) {
      if (s[0] === '{' || s[0] === '[') {
        var all = s;
        while (!balanced(all) && pos < lines.length) all += ' ' + lines[pos++].text;
        return parseFlow(all, l.n);
      }
      return plainScalar(s, l.n);
    }

    function block() {
      var l = lines[pos];
      if (/^-(\s|$)/.test(l.text)) return seq(l.indent);
      if (KEY.test(l.text)) return map(l.indent);
      pos++;
      if (pos < lines.length && lines[pos].indent > l.indent && !/^[{[]/.test(l.text))
        fail(lines[pos].n, 'unexpected indentation');
      return inline(l, l.text);
    }

    function seq(indent) {
      var out = [];
      while (pos < lines.length && lines[pos].indent === indent && /^-(\s|$)/.test(lines[pos].text)) {
        var l = lines[pos];
        var rest = l.text.slice(1).trimStart();
        if (rest === '') {
          pos++;
          if (pos < lines.length && lines[pos].indent > indent) out.push(block());
          else out.push(null);
          continue;
        }
        // `- key: v` opens a map whose next keys sit under the text after the dash.
        lines[pos] = { n: l.n, indent: indent + (l.text.length - rest.length), text: rest };
        out.push(block());
      }
      if (pos < lines.length && lines[pos].indent > indent) fail(lines[pos].n, 'unexpected indentation');
      return out;
    }

    function map(indent) {
      var out = {};
      while (pos < lines.length && lines[pos].indent === indent) {
        var l = lines[pos];
        var m = KEY.exec(l.text);
        if (!m) fail(l.n, 'expected key: value, got ' + l.text);
        var key = m[1][0] === '"' || m[1][0] === "'" ? String(plainScalar(m[1], l.n)) : m[1].trim();
        if (Object.prototype.hasOwnProperty.call(out, key)) fail(l.n, 'duplicate key ' + key);
        pos++;
        var rest = m[2] ? m[2].trim() : '';
        if (rest !== '') out[key] = inline(l, rest);
        else if (pos < lines.length && lines[pos].indent > indent) out[key] = block();
        else if (pos < lines.length && lines[pos].indent === indent && /^-(\s|$)/.test(lines[pos].text))
          out[key] = seq(indent);
        else out[key] = null;
      }
      if (pos < lines.length && lines[pos].indent > indent) fail(lines[pos].n, 'unexpected indentation');
      return out;
    }

    if (lines.length === 0) return undefined;
    var v = block();
    if (pos < lines.length) fail(lines[pos].n, 'unexpected text (check the indentation)');
    return v;
  }

  /** JSON or the YAML subset; { value } or { error }. Empty text gives { value: undefined }. */
  function parseStructured(source) {
    if (source !== null && typeof source === 'object') return { value: source };
    var s = text(source);
    if (s === '') return { value: undefined };
    try {
      return { value: JSON.parse(s) };
    } catch {
      // not JSON: try the YAML subset
    }
    try {
      return { value: parseYamlish(s) };
    } catch (e) {
      return { error: e.message };
    }
  }

  function isPlainObject(v) {
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  }

  /** A condition map: exactly one key; the rest is checked by the gateway with the rule parser. */
  function conditionProblem(v) {
    if (!isPlainObject(v) || Object.keys(v).length !== 1)
      return 'a condition is a map with exactly one key (state, threshold, absent, status, schedule, badge, count, all, any, not)';
    return undefined;
  }

  /** Steps: a non-empty list of { after?, notify, via? }; the first without after, the others with. */
  function stepsProblem(steps) {
    if (!Array.isArray(steps) || steps.length === 0) return 'steps: expected a non-empty list of steps';
    for (var i = 0; i < steps.length; i++) {
      var s = steps[i];
      var p = 'steps[' + (i + 1) + ']';
      if (!isPlainObject(s)) return p + ': expected a map with notify (and after, via)';
      var unknown = Object.keys(s).filter(function (k) {
        return ['after', 'notify', 'via'].indexOf(k) < 0;
      });
      if (unknown.length > 0) return p + ': unknown key ' + unknown[0] + ' (use after, notify, via)';
      if (s.notify === undefined || s.notify === null)
        return p + '.notify: missing (team:ID, person:ID or ID)';
      if (i === 0 && s.after !== undefined) return p + '.after: the first step runs at once; remove after';
      if (i > 0 && s.after === undefined)
        return p + '.after: missing (delay after the previous step, e.g. 5m)';
      if (s.after !== undefined && !isDuration(s.after))
        return p + '.after: ' + JSON.stringify(s.after) + ' is not a duration (use 500ms, 30s, 5m, 1h)';
    }
    return undefined;
  }

  return {
    RULE_ID: RULE_ID,
    SOURCE_ID: SOURCE_ID,
    SEVERITIES: SEVERITIES,
    CONDITION_TYPES: CONDITION_TYPES,
    parseDuration: parseDuration,
    isDuration: isDuration,
    text: text,
    list: list,
    toNumber: toNumber,
    scalar: scalar,
    parseStructured: parseStructured,
    conditionProblem: conditionProblem,
    stepsProblem: stepsProblem,
    isPlainObject: isPlainObject,
  };
});
