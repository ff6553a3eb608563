/* global $, RED, window */
// Editor side of the Vigie nodes (browser only): the site catalog from the runtime's admin
// endpoint, the validators used in the nodes' `defaults`, suggestions and the dry-run button.
// Syntax checks come from vigie-common.js, the same code the runtime assembles rules with.
(function () {
  'use strict';
  if (window.VigieEditor) return;
  // The editor loads resource scripts in no set order: look vigie-common.js up when needed.
  function C() {
    return window.VigieCommon;
  }
  var catalogs = {}; // gateway id ('' = embedded) -> { catalog?, loading?, failedAt? }
  var RETRY_MS = 30000;

  function gatewayKey(id) {
    var n = id && RED.nodes.node(id);
    // A config node not deployed yet has no catalog of its own: the embedded one is the best guess.
    return n && n.mode === 'remote' && !n.changed ? id : '';
  }

  /** The cached catalog, or null; asks the runtime once (again after a failure, every 30 s). */
  function catalog(gatewayId) {
    var key = gatewayKey(gatewayId);
    var c = catalogs[key] || (catalogs[key] = {});
    if (c.catalog) return c.catalog;
    if (c.loading || (c.failedAt && Date.now() - c.failedAt < RETRY_MS)) return null;
    c.loading = true;
    $.ajax({ url: 'vigie/catalog', data: key ? { gateway: key } : {}, dataType: 'json' })
      .done(function (cat) {
        c.catalog = cat;
        // Nodes validated before the catalog arrived are checked again now.
        RED.nodes.eachNode(function (n) {
          if (/^vigie-/.test(n.type)) RED.editor.validateNode(n);
        });
        RED.view.redraw(true);
      })
      .fail(function () {
        c.failedAt = Date.now();
      })
      .always(function () {
        c.loading = false;
      });
    return null;
  }

  function reload() {
    catalogs = {};
  }

  /** The value being edited when this node's dialog is open, else the saved one. */
  function field(node, name) {
    var el = $('#node-input-' + name);
    if (!el.length) el = $('#node-config-input-' + name);
    if (el.length && node && RED.editor.getEditStack && isEditing(node)) {
      return el.is(':checkbox') ? el.prop('checked') : el.val();
    }
    return node ? node[name] : undefined;
  }

  function isEditing(node) {
    var stack = RED.editor.getEditStack ? RED.editor.getEditStack() : [];
    // The stack holds what is being edited: nodes, config nodes, or { type } placeholders.
    for (var i = 0; i < stack.length; i++)
      if (stack[i] === node || (stack[i] && stack[i].id === node.id)) return true;
    return false;
  }

  /** The gateway of the chain a node belongs to: the `vigie listen` upstream of it. */
  function gatewayOf(node) {
    if (!node) return '';
    if (node.type === 'vigie-listen' || node.type === 'vigie-incident') return node.gateway || '';
    var seen = {};
    var todo = [node];
    while (todo.length) {
      var n = todo.pop();
      if (seen[n.id]) continue;
      seen[n.id] = true;
      var links = RED.nodes.filterLinks({ target: n });
      for (var i = 0; i < links.length; i++) {
        var s = links[i].source;
        if (s.type === 'vigie-listen') return s.gateway || '';
        if (/^vigie-(condition|route|engage)$/.test(s.type)) todo.push(s);
      }
    }
    return '';
  }

  var NAMES = {
    kinds: 'device kind',
    devices: 'device',
    zones: 'zone',
    tags: 'tag',
    teams: 'team',
    people: 'person',
    oncall: 'on-call rotation',
    policies: 'escalation policy',
    templates: 'template',
    dispatch: 'dispatch profile',
    channels: 'channel',
    badgeLists: 'badge list',
    schedules: 'schedule',
  };

  function names(cat, what) {
    return (cat[what] || []).map(function (x) {
      return typeof x === 'string' ? x : x.id;
    });
  }

  /** undefined when every value is known (or the catalog is not loaded yet), else the message. */
  function unknown(node, what, values) {
    var cat = catalog(gatewayOf(node));
    if (!cat) return undefined;
    var known = names(cat, what);
    for (var i = 0; i < values.length; i++) {
      if (known.indexOf(values[i]) < 0) {
        var hint = known.length
          ? ' (known: ' + known.slice(0, 12).join(', ') + (known.length > 12 ? ', ...' : '') + ')'
          : '';
        return '"' + values[i] + '" is not a ' + NAMES[what] + ' of the site' + hint;
      }
    }
    return undefined;
  }

  function result(problem) {
    return problem ? problem : true;
  }

  // ---- validator factories for `defaults` (return true or the message to show) ----

  var v = {
    duration: function (required) {
      return function (value, _opt) {
        var t = C().text(value);
        if (!t) return required ? 'a duration is required (500ms, 30s, 5m, 1h)' : true;
        return C().isDuration(t) || '"' + t + '" is not a duration (use 500ms, 30s, 5m, 1h30m)';
      };
    },
    /** Required only when `when(node)` says the field is in use. */
    when: function (inUse, check) {
      return function (value, opt) {
        return inUse(this) ? check.call(this, value, opt) : true;
      };
    },
    required: function (what) {
      return function (value, _opt) {
        return C().text(value) ? true : what + ' is required';
      };
    },
    ruleId: function (value, _opt) {
      var t = C().text(value);
      if (!t) return 'the rule id is required';
      return C().RULE_ID.test(t) || '"' + t + '" is not a rule id (lower-case letters, digits and -)';
    },
    number: function (opts) {
      opts = opts || {};
      return function (value, _opt) {
        var t = C().text(value);
        if (!t) return opts.required ? 'a number is required' : true;
        var n = C().toNumber(t);
        if (n === undefined) return '"' + t + '" is not a number';
        if (opts.min !== undefined && n < opts.min) return 'must be ' + opts.min + ' or more';
        if (opts.integer && !Number.isInteger(n)) return 'must be a whole number';
        return true;
      };
    },
    known: function (what, opts) {
      opts = opts || {};
      return function (value, _opt) {
        var items = opts.list ? C().list(value) : C().text(value) ? [C().text(value)] : [];
        if (opts.required && items.length === 0) return NAMES[what] + ' is required';
        return result(unknown(this, what, items));
      };
    },
    structured: function (check) {
      return function (value, _opt) {
        var r = C().parseStructured(value);
        if (r.error) return r.error;
        if (r.value === undefined) return 'required';
        return result(check(r.value));
      };
    },
  };

  /** Steps: syntax (shared with the runtime) and, with the catalog, the people, teams and channels. */
  function stepsProblem(node, steps) {
    var bad = C().stepsProblem(steps);
    if (bad) return bad;
    for (var i = 0; i < steps.length; i++) {
      var notify = [].concat(steps[i].notify || []);
      for (var j = 0; j < notify.length; j++) {
        var m = /^(team|person|oncall):(.*)$/.exec(String(notify[j]));
        var kind = m ? { team: 'teams', person: 'people', oncall: 'oncall' }[m[1]] : null;
        if (kind) {
          var u = unknown(node, kind, [m[2]]);
          if (u) return 'steps[' + (i + 1) + '].notify: ' + u;
        }
      }
      var via = [].concat(steps[i].via || []).filter(function (ch) {
        return !/\?$/.test(String(ch));
      });
      var uc = unknown(node, 'channels', via.map(String));
      if (uc) return 'steps[' + (i + 1) + '].via: ' + uc + ' (write "name?" for an optional channel)';
    }
    return undefined;
  }

  /** A <datalist> of catalog names under an input, so typing offers the site's names. */
  function suggest(node, inputId, what) {
    var input = $('#' + inputId);
    if (!input.length) return;
    var listId = inputId + '-vigie-list';
    $('#' + listId).remove();
    var dl = $('<datalist>').attr('id', listId).insertAfter(input);
    input.attr('list', listId);
    var fill = function () {
      var cat = catalog(gatewayOf(node));
      if (!cat) return false;
      names(cat, what).forEach(function (n) {
        $('<option>').attr('value', n).appendTo(dl);
      });
      return true;
    };
    if (!fill()) setTimeout(fill, 1500);
  }

  /** The draft flows as flow JSON, with this dialog's unsaved values on the node being edited. */
  function draft(node, fields) {
    var all = RED.nodes.createCompleteNodeSet({ credentials: false });
    for (var i = 0; i < all.length; i++) {
      if (all[i].id !== node.id) continue;
      for (var k = 0; k < fields.length; k++) all[i][fields[k]] = field(node, fields[k]);
    }
    return all;
  }

  /** "Check against the gateway": the draft set as the gateway would judge it, nothing changes. */
  function check(node, fields, out) {
    out.empty().append($('<span>').text('Checking...'));
    $.ajax({
      url: 'vigie/check',
      method: 'POST',
      contentType: 'application/json',
      data: JSON.stringify({ condition: node.id, nodes: draft(node, fields) }),
      dataType: 'json',
    })
      .done(function (r) {
        out.empty();
        if (r.ok) {
          out.append(
            $('<div>')
              .css('color', '#3a3')
              .text('The gateway would accept these rules: ' + (r.rules || []).join(', ')),
          );
          return;
        }
        var head =
          r.checked === 'editor' ? 'Problems in the flows:' : 'The gateway would refuse these rules:';
        out.append($('<div>').css('color', '#c33').text(head));
        var ul = $('<ul>').appendTo(out);
        (r.problems || []).forEach(function (p) {
          var n = p.nodeId && RED.nodes.node(p.nodeId);
          var where = p.nodeId === node.id ? 'this node' : n ? n.name || n.type : p.rule || 'set';
          $('<li>')
            .text(where + ': ' + p.message)
            .appendTo(ul);
        });
      })
      .fail(function (xhr) {
        var e = xhr.responseJSON && xhr.responseJSON.error;
        out.empty().append(
          $('<div>')
            .css('color', '#c33')
            .text(e ? e.message : 'check failed: HTTP ' + xhr.status),
        );
      });
  }

  window.VigieEditor = {
    catalog: catalog,
    reload: reload,
    field: field,
    gatewayOf: gatewayOf,
    unknown: unknown,
    v: v,
    stepsProblem: stepsProblem,
    suggest: suggest,
    check: check,
  };
})();
