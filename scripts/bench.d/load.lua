-- wrk script for scripts/bench: walks a list of pre-generated requests, sends the browser's
-- cookie, counts the answers that are what a browser or SP needs, follows a redirect to
-- /api/saml/complete, keeps a few answers for python3-saml, and writes a JSON summary.
--
-- Environment (set by scripts/bench):
--   BENCH_LIST    file with one request per line: a path+query (GET), or a form body (POST)
--                 (empty: always GET BENCH_PATH)
--   BENCH_METHOD  GET (default) or POST
--   BENCH_PATH    the path POST bodies go to, or the fixed GET path without a list
--   BENCH_COOKIE  Cookie header value (the signed-in session), optional
--   BENCH_STATUS  the status a successful answer has (default 200)
--   BENCH_EXPECT  a substring the body of a successful answer holds, optional
--   BENCH_SAMPLE  how many successful answers each thread keeps (default 0)
--   BENCH_OUT     where done() writes its JSON
--
-- A signed-in SSO request may be answered with 303 to /api/saml/complete (the pending
-- request's cookie set): the next request of that thread then follows it with that cookie,
-- as a browser would. Responses/s counts successful answers, not HTTP requests; wrk's
-- latency percentiles are per HTTP request (so for a redirected flow a Response costs two).

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("id", counter)
   table.insert(threads, thread)
end

local function getenv(name, default)
   local v = os.getenv(name)
   if v == nil or v == "" then return default end
   return v
end

local function headers_with(extra_cookie)
   local h = {}
   local c = cookie
   if extra_cookie then c = c and (c .. "; " .. extra_cookie) or extra_cookie end
   if c then h["Cookie"] = c end
   return h
end

-- Requests are formatted once, in init(): the client's own cost stays out of the rate.
local function format(line)
   if line == nil then
      return wrk.format(method, fixed_path, headers_with(nil), nil)
   end
   if method == "POST" then
      local h = headers_with(nil)
      h["Content-Type"] = "application/x-www-form-urlencoded"
      return wrk.format("POST", fixed_path, h, line)
   end
   return wrk.format("GET", line, headers_with(nil), nil)
end

function init(args)
   method = getenv("BENCH_METHOD", "GET")
   fixed_path = getenv("BENCH_PATH", "/")
   cookie = getenv("BENCH_COOKIE", nil)
   want_status = tonumber(getenv("BENCH_STATUS", "200"))
   expect = getenv("BENCH_EXPECT", nil)
   -- BENCH_SAMPLE answers in all, shared out between the threads.
   sample_max = math.ceil(tonumber(getenv("BENCH_SAMPLE", "0")) / tonumber(getenv("BENCH_THREADS", "1")))
   ok, bad, redirects, wrapped = 0, 0, 0, 0
   bad_statuses, bad_count = "", {}
   samples, sampled = "", 0
   follow = {}
   lines = {}
   local list = getenv("BENCH_LIST", nil)
   local nthreads = tonumber(getenv("BENCH_THREADS", "1"))
   if list then
      -- Thread k takes lines k, k+T, k+2T, ...: every request is sent once per run.
      local n = 0
      for line in io.lines(list) do
         if n % nthreads == (id - 1) then table.insert(lines, format(line)) end
         n = n + 1
      end
   end
   next_line = 1
end

function request()
   local f = table.remove(follow, 1)
   if f then
      return wrk.format("GET", f.path, headers_with(f.cookie), nil)
   end
   if #lines == 0 then
      fixed = fixed or format(nil)
      return fixed
   end
   local r = lines[next_line]
   next_line = next_line + 1
   if next_line > #lines then
      next_line = 1
      wrapped = wrapped + 1
   end
   return r
end

local function field(body, name)
   return body:match('name="' .. name .. '" value="([^"]*)"')
end

function response(status, headers, body)
   local location = headers["Location"] or headers["location"]
   if (status == 302 or status == 303) and location and location:find("/api/saml/complete", 1, true) then
      local set = headers["Set-Cookie"] or headers["set-cookie"] or ""
      local pending = set:match("(saml_idp_pending=[^;]*)")
      redirects = redirects + 1
      table.insert(follow, { path = location, cookie = pending })
      return
   end
   if status == want_status and (expect == nil or body:find(expect, 1, true)) then
      ok = ok + 1
      -- Patterns are slow on large bodies (the client would limit the rate): only while sampling.
      local s = sampled < sample_max and field(body, "SAMLResponse")
      if s then
         -- Flat strings only: wrk copies nested tables between threads badly.
         sampled = sampled + 1
         samples = samples .. (field(body, "RelayState") or "") .. "\t" .. s .. "\n"
      end
   else
      bad = bad + 1
      bad_count[status] = (bad_count[status] or 0) + 1
      local parts = {}
      for k, n in pairs(bad_count) do table.insert(parts, k .. "=" .. n) end
      bad_statuses = table.concat(parts, " ")
   end
end

local function json(v)
   local t = type(v)
   if t == "number" then
      if v ~= v or v == math.huge or v == -math.huge then return "null" end
      return string.format("%.17g", v)
   elseif t == "string" then
      return '"' .. v:gsub('[%c"\\]', function(c)
         return string.format("\\u%04x", c:byte())
      end) .. '"'
   elseif t == "table" then
      if #v > 0 or next(v) == nil then
         local parts = {}
         for _, x in ipairs(v) do table.insert(parts, json(x)) end
         return "[" .. table.concat(parts, ",") .. "]"
      end
      local parts = {}
      for k, x in pairs(v) do table.insert(parts, json(tostring(k)) .. ":" .. json(x)) end
      return "{" .. table.concat(parts, ",") .. "}"
   elseif t == "boolean" then
      return tostring(v)
   end
   return "null"
end

function done(summary, latency, requests)
   local total = { ok = 0, bad = 0, redirects = 0, wrapped = 0, bad_statuses = {}, samples = {} }
   for _, t in ipairs(threads) do
      total.ok = total.ok + t:get("ok")
      total.bad = total.bad + t:get("bad")
      total.redirects = total.redirects + t:get("redirects")
      total.wrapped = total.wrapped + t:get("wrapped")
      for status, n in t:get("bad_statuses"):gmatch("(%d+)=(%d+)") do
         total.bad_statuses[status] = (total.bad_statuses[status] or 0) + tonumber(n)
      end
      for relay, saml in t:get("samples"):gmatch("([^\t\n]*)\t([^\n]*)\n") do
         table.insert(total.samples, { relay = relay, saml = saml })
      end
   end
   local out = {
      duration_us = summary.duration,
      http_requests = summary.requests,
      bytes = summary.bytes,
      socket_errors = summary.errors,
      ok = total.ok,
      bad = total.bad,
      bad_statuses = total.bad_statuses,
      redirects_followed = total.redirects,
      list_wrapped = total.wrapped,
      latency_us = {
         mean = latency.mean,
         max = latency.max,
         p50 = latency:percentile(50),
         p90 = latency:percentile(90),
         p99 = latency:percentile(99),
      },
      samples = total.samples,
   }
   local path = os.getenv("BENCH_OUT")
   local f = assert(io.open(path, "w"))
   f:write(json(out))
   f:close()
end
