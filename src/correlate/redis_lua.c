/*
 * redis_lua — the Redis store's scripts (see redis_lua.h).  Each mirrors
 * the function of store_mem.c named beside it; a difference between the
 * two is a bug, caught by the differential unit test (test_corr_redis.c).
 */
#include "correlate/redis_lua.h"

#include <stdio.h>
#include <string.h>

/* Time pairs, suppression (gate, note_quiet_hit) and the key's state as
 * one MessagePack value. */
static const char prelude[] =
    "local B = 1000000000\n"
    "local function lt(as, an, bs, bn) return as < bs or (as == bs and an < bn) end\n"
    "local function add(s, n, ds, dn)\n"
    "  s = s + ds; n = n + dn\n"
    "  if n >= B then return s + 1, n - B end\n"
    "  if n < 0 then return s - 1, n + B end\n"
    "  return s, n\n"
    "end\n"
    "local ts, tn = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local ss, sn = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local R = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ''}\n"
    "local g\n"
    "local function load() local raw = redis.call('GET', KEYS[1]); g = raw and cmsgpack.unpack(raw) or {} end\n"
    "local function save() redis.call('SET', KEYS[1], cmsgpack.pack(g), 'PX', ARGV[5]) end\n"
    "local function quiet(s, n)\n"
    "  if g.us and lt(s, n, g.us, g.un) then g.sc = (g.sc or 0) + 1; R[9] = 1 end\n"
    "end\n"
    "local function gate()\n"
    "  if g.us and lt(ts, tn, g.us, g.un) then g.sc = (g.sc or 0) + 1; R[9] = 1; return false end\n"
    "  R[4] = g.sc or 0; g.sc = 0\n"
    "  if ss > 0 or sn > 0 then g.us, g.un = add(ts, tn, ss, sn) else g.us = nil; g.un = nil end\n"
    "  R[1] = 1\n"
    "  return true\n"
    "end\n"
    "local function values(list)\n"
    "  if #list == 0 then return '' end\n"
    "  return table.concat(list, '\\0') .. '\\0'\n"
    "end\n";

/* hit_event_count: the newest `threshold` times, sorted, as flat pairs. */
static const char event_count[] =
    "load()\n"
    "local ws, wn, thr = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])\n"
    "local cap = thr > 0 and thr or 1\n"
    "g.t = g.t or {}; g.m = g.m or {}\n"
    "local t, m = g.t, g.m\n"
    "local function hit()\n"
    "  local n = #t / 2\n"
    "  if n == cap then\n"
    "    if lt(ts, tn, t[1], t[2]) then quiet(ts, tn); return end\n"
    "    table.remove(t, 1); table.remove(t, 1); n = n - 1\n"
    "  end\n"
    "  local i = n + 1\n"
    "  while i > 1 and lt(ts, tn, t[2 * i - 3], t[2 * i - 2]) do i = i - 1 end\n"
    "  table.insert(t, 2 * i - 1, ts); table.insert(t, 2 * i, tn)\n"
    "  n = n + 1\n"
    "  if ARGV[10] == '1' and #m < 10 then\n"
    "    local dup = false\n"
    "    for k = 1, #m do if m[k] == ARGV[9] then dup = true end end\n"
    "    if not dup then m[#m + 1] = ARGV[9] end\n"
    "  end\n"
    "  local f = 1\n"
    "  while f <= n do\n"
    "    local es, en = add(t[2 * f - 1], t[2 * f], ws, wn)\n"
    "    if lt(t[2 * n - 1], t[2 * n], es, en) then break end\n"
    "    f = f + 1\n"
    "  end\n"
    "  R[2] = n - f + 1\n"
    "  R[5], R[6], R[7], R[8] = t[2 * f - 1], t[2 * f], t[2 * n - 1], t[2 * n]\n"
    "  if R[2] < thr then quiet(ts, tn); return end\n"
    "  if gate() then R[11] = values(m); g.m = {} end\n"
    "end\n"
    "hit()\n"
    "save()\n"
    "return R\n";

/* hit_value_count: at most `threshold` {hash, first, last, sample}. */
static const char value_count[] =
    "load()\n"
    "local ws, wn, thr, h = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9]\n"
    "local cap = thr > 0 and thr or 1\n"
    "g.v = g.v or {}\n"
    "local v = g.v\n"
    "local at = nil\n"
    "for i = 1, #v do if v[i][1] == h then at = i end end\n"
    "if at then\n"
    "  if lt(v[at][4], v[at][5], ts, tn) then v[at][4] = ts; v[at][5] = tn end\n"
    "else\n"
    "  if #v == cap then\n"
    "    at = 1\n"
    "    for i = 2, #v do if lt(v[i][4], v[i][5], v[at][4], v[at][5]) then at = i end end\n"
    "  else at = #v + 1 end\n"
    "  v[at] = {h, ts, tn, ts, tn, ARGV[10]}\n"
    "end\n"
    "local ns, nn = v[1][4], v[1][5]\n"
    "for i = 2, #v do if lt(ns, nn, v[i][4], v[i][5]) then ns, nn = v[i][4], v[i][5] end end\n"
    "local lows, lown = add(ns, nn, -ws, -wn)\n"
    "local d, os, on, smp = 0, nil, nil, {}\n"
    "for i = 1, #v do\n"
    "  if lt(lows, lown, v[i][4], v[i][5]) then\n"
    "    d = d + 1\n"
    "    if os == nil or lt(v[i][2], v[i][3], os, on) then os, on = v[i][2], v[i][3] end\n"
    "    if #smp < 10 then smp[#smp + 1] = v[i][6] end\n"
    "  end\n"
    "end\n"
    "R[2] = d; R[3] = d\n"
    "if os and lt(lows, lown, os, on) then R[5], R[6] = os, on else R[5], R[6] = add(lows, lown, 0, 1) end\n"
    "R[7], R[8] = ns, nn\n"
    "if d < thr then quiet(ts, tn) elseif gate() then R[11] = values(smp) end\n"
    "save()\n"
    "return R\n";

/* fire_steps and the two sequence types: per step {start s, start ns,
 * end s, end ns, records}, or nothing. */
static const char steps_common[] =
    "load()\n"
    "local ws, wn, nst, K, info = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), "
    "tonumber(ARGV[9]) + 1, ARGV[10]\n"
    "g.s = g.s or {}\n"
    "local S = g.s\n"
    "local function fire(ordered)\n"
    "  local parts = {}\n"
    "  if ordered then\n"
    "    if K > 1 and S[K - 1] then parts[1] = S[K - 1][5] end\n"
    "  else\n"
    "    for i = 1, nst do if i ~= K and S[i] then parts[#parts + 1] = S[i][5] end end\n"
    "  end\n"
    "  parts[#parts + 1] = info\n"
    "  R[2] = nst\n"
    "  if gate() then R[11] = table.concat(parts, '\\n') end\n"
    "  g.s = {}\n"
    "end\n";

static const char ordered[] =
    "local function hit()\n"
    "  local prev = K > 1 and S[K - 1] or nil\n"
    "  if K > 1 then\n"
    "    if not prev or lt(ts, tn, prev[3], prev[4]) then quiet(ts, tn); return end\n"
    "    local es, en = add(prev[1], prev[2], ws, wn)\n"
    "    if not lt(ts, tn, es, en) then quiet(ts, tn); return end\n"
    "  end\n"
    "  local st_s, st_n = ts, tn\n"
    "  if prev then st_s, st_n = prev[1], prev[2] end\n"
    "  R[5], R[6], R[7], R[8] = st_s, st_n, ts, tn\n"
    "  if K == nst then fire(true); return end\n"
    "  local s = S[K]\n"
    "  if s and lt(st_s, st_n, s[1], s[2]) then quiet(ts, tn); return end\n"
    "  S[K] = {st_s, st_n, ts, tn, prev and (prev[5] .. '\\n' .. info) or info}\n"
    "  quiet(ts, tn)\n"
    "end\n"
    "hit()\n"
    "save()\n"
    "return R\n";

static const char temporal[] =
    "local function hit()\n"
    "  local ls, ln, hs, hn, all = ts, tn, ts, tn, true\n"
    "  local ps, pn = add(ts, tn, ws, wn)\n"
    "  for i = 1, nst do\n"
    "    local o = S[i]\n"
    "    if i ~= K then\n"
    "      local es, en\n"
    "      if o then es, en = add(o[3], o[4], ws, wn) end\n"
    "      if not o or not lt(ts, tn, es, en) or not lt(o[3], o[4], ps, pn) then\n"
    "        all = false\n"
    "      else\n"
    "        if lt(o[3], o[4], ls, ln) then ls, ln = o[3], o[4] end\n"
    "        if lt(hs, hn, o[3], o[4]) then hs, hn = o[3], o[4] end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  if all then\n"
    "    local es, en = add(ls, ln, ws, wn)\n"
    "    if lt(hs, hn, es, en) then\n"
    "      R[5], R[6], R[7], R[8] = ls, ln, hs, hn\n"
    "      fire(false)\n"
    "      return\n"
    "    end\n"
    "  end\n"
    "  local s = S[K]\n"
    "  if not s or not lt(ts, tn, s[3], s[4]) then S[K] = {ts, tn, ts, tn, info} end\n"
    "  quiet(ts, tn)\n"
    "end\n"
    "hit()\n"
    "save()\n"
    "return R\n";

/* hit_new_value: a hash per key, one field per tuple ("s ns" last seen;
 * without `forget` the first sighting, as nothing reads the last) and the
 * key's own fields: _l learnt since, _u suppressed until, _c suppressed
 * hits, _n tuples; each written only when it changes. */
static const char new_value[] =
    "local ls_, ln_, fs, fn, hh, maxv = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), "
    "tonumber(ARGV[9]), ARGV[10], tonumber(ARGV[11])\n"
    "local function pair(x)\n"
    "  if not x then return nil end\n"
    "  local a, b = string.match(x, '^(%-?%d+) (%d+)$')\n"
    "  return tonumber(a), tonumber(b)\n"
    "end\n"
    "local function fmt(s, n) return string.format('%.0f %.0f', s, n) end\n"
    "local r = redis.call('HMGET', KEYS[1], '_l', '_u', '_c', '_n', hh)\n"
    "g = {}\n"
    "g.us, g.un = pair(r[2])\n"
    "g.sc = tonumber(r[3]) or 0\n"
    "local n = tonumber(r[4]) or 0\n"
    "local lfs, lfn = pair(r[1])\n"
    "if not lfs or lt(ts, tn, lfs, lfn) then lfs, lfn = ts, tn end\n"
    "R[5], R[6], R[7], R[8] = lfs, lfn, ts, tn\n"
    "local function hit()\n"
    "  local es, en = pair(r[5])\n"
    "  if es then\n"
    "    local forgotten, forgets = false, fs > 0 or fn > 0\n"
    "    if forgets then\n"
    "      local xs, xn = add(es, en, fs, fn)\n"
    "      forgotten = not lt(ts, tn, xs, xn)\n"
    "    end\n"
    "    if forgets and lt(es, en, ts, tn) then redis.call('HSET', KEYS[1], hh, fmt(ts, tn)) end\n"
    "    if not forgotten then quiet(ts, tn); return end\n"
    "  else\n"
    "    if n >= maxv then\n"
    "      R[10] = 1\n"
    "      redis.call('DEL', KEYS[1])\n"
    "      n = 0; lfs, lfn = ts, tn\n"
    "    end\n"
    "    redis.call('HSET', KEYS[1], hh, fmt(ts, tn))\n"
    "    n = n + 1\n"
    "  end\n"
    "  R[2] = n; R[3] = n\n"
    "  local xs, xn = add(lfs, lfn, ls_, ln_)\n"
    "  if lt(ts, tn, xs, xn) then quiet(ts, tn) else gate() end\n"
    "end\n"
    "hit()\n"
    "local w, l, u = {}, fmt(lfs, lfn), g.us and fmt(g.us, g.un)\n"
    "if R[10] == 1 or l ~= r[1] then w[#w + 1] = '_l'; w[#w + 1] = l end\n"
    "if R[10] == 1 or tostring(g.sc) ~= (r[3] or '0') then w[#w + 1] = '_c'; w[#w + 1] = g.sc end\n"
    "if R[10] == 1 or tostring(n) ~= (r[4] or '0') then w[#w + 1] = '_n'; w[#w + 1] = n end\n"
    "if u and (R[10] == 1 or u ~= r[2]) then w[#w + 1] = '_u'; w[#w + 1] = u end\n"
    "if #w > 0 then redis.call('HSET', KEYS[1], unpack(w)) end\n"
    "if not u and r[2] then redis.call('HDEL', KEYS[1], '_u') end\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[5])\n"
    "return R\n";

/* A plain rule's suppress: */
static const char suppress[] =
    "load()\n"
    "R[2] = 1; R[5], R[6], R[7], R[8] = ts, tn, ts, tn\n"
    "gate()\n"
    "save()\n"
    "return R\n";

/* `until`: the key's partial sequence is dropped, its suppression kept. */
static const char cancel[] =
    "local raw = redis.call('GET', KEYS[1])\n"
    "if raw then\n"
    "  local g = cmsgpack.unpack(raw)\n"
    "  g.s = {}\n"
    "  redis.call('SET', KEYS[1], cmsgpack.pack(g), 'KEEPTTL')\n"
    "end\n"
    "return 0\n";

static char built[RL_NSCRIPTS][8192];

const char *redis_lua_script(int i)
{
    if (i < 0 || i >= RL_NSCRIPTS)
        return NULL;
    if (built[i][0])
        return built[i];
    const char *a = prelude, *b = "", *c = "";
    switch (i) {
    case RL_EVENT_COUNT: b = event_count; break;
    case RL_VALUE_COUNT: b = value_count; break;
    case RL_ORDERED: b = steps_common; c = ordered; break;
    case RL_TEMPORAL: b = steps_common; c = temporal; break;
    case RL_NEW_VALUE: b = new_value; break;
    case RL_SUPPRESS: b = suppress; break;
    case RL_CANCEL: a = cancel; break;
    }
    snprintf(built[i], sizeof built[i], "%s%s%s", a, b, c);
    return built[i];
}
