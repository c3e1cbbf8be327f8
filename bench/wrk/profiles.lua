-- wrk script for the /movement-profiles contract, as a frontend (supabase-js) sends it.
--
--   wrk -t2 -c16 -d5s -s bench/wrk/profiles.lua <base URL>/movement_profiles -- \
--       <mode> <users file> <apikey> <threads> <content profile> <api> <post body> <patch body>
--       <other patch body>
--
-- mode: get | post | patch | fixed
--   get, patch  round-robin over the users file ("<user id> <access token>" per line); each
--               thread takes every Nth line, so no two connections touch the same row at once.
--   post        each request creates the profile of the next unused user; a user is never
--               reused, because the contract allows one profile per user (a reuse would be 409).
--   fixed       the URL as given (filters included), with the apikey as bearer (service role).
-- threads: the same number as -t (wrk calls init() of a thread before setup() of the next, so a
--          thread cannot count its siblings itself).
-- content profile: a schema other than public (PostgREST's Content-Profile/Accept-Profile).
-- api: "postgrest" (the default) or "story": the same requests in the story's REST design
--      (bench/story_service.py), GET and PUT /movement-profiles/<user id> and POST
--      /movement-profiles, with the same bodies and tokens and no apikey; patch mode sends PUT.
-- bodies: what a POST sends, and the two bodies successive PATCHes alternate (so each really
--         changes the row); bench/measure.py writes them, the same as pgbench's.
--
-- done() prints one JSON line that bench/measure.py parses.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_index", #threads)
end

local OBJECT = "application/vnd.pgrst.object+json"

function init(args)
  mode = args[1]
  apikey = args[3]
  local threads_total = tonumber(args[4])
  content_profile = args[5]
  api = (args[6] ~= nil and args[6] ~= "") and args[6] or "postgrest"
  POST_BODY = args[7]
  PATCH_BODIES = { args[8], args[9] }
  users = {}
  next_user = 1
  wrapped = 0
  if mode ~= "fixed" then
    local line_number = 0
    for line in io.lines(args[2]) do
      if line_number % threads_total == thread_index - 1 then
        local id, token = line:match("^(%S+)%s+(%S+)$")
        users[#users + 1] = { id = id, token = token }
      end
      line_number = line_number + 1
    end
    if #users == 0 then
      error("no users for thread " .. thread_index .. " in " .. args[2])
    end
  end
  base_path = wrk.path
end

local function next_in_turn()
  local user = users[next_user]
  next_user = next_user + 1
  if next_user > #users then
    next_user = 1
    wrapped = wrapped + 1
  end
  return user
end

local function profile_headers(headers, write)
  if content_profile and content_profile ~= "" then
    headers[write and "Content-Profile" or "Accept-Profile"] = content_profile
  end
  return headers
end

function story_request(user)
  local headers = { ["Authorization"] = "Bearer " .. user.token }
  if mode == "get" then
    return wrk.format("GET", base_path .. "/" .. user.id, headers)
  end
  headers["Content-Type"] = "application/json"
  if mode == "post" then
    return wrk.format("POST", base_path, headers, POST_BODY)
  end
  return wrk.format("PUT", base_path .. "/" .. user.id, headers, PATCH_BODIES[wrapped % 2 + 1])
end

function request()
  if mode == "fixed" then
    return wrk.format("GET", base_path, {
      ["apikey"] = apikey,
      ["Authorization"] = "Bearer " .. apikey,
    })
  end
  local user = next_in_turn()
  if api == "story" then
    return story_request(user)
  end
  local headers = {
    ["apikey"] = apikey,
    ["Authorization"] = "Bearer " .. user.token,
    ["Accept"] = OBJECT,
  }
  if mode == "get" then
    return wrk.format("GET", base_path .. "?user_id=eq." .. user.id, profile_headers(headers, false))
  end
  headers["Content-Type"] = "application/json"
  headers["Prefer"] = "return=representation"
  profile_headers(headers, true)
  if mode == "post" then
    return wrk.format("POST", base_path, headers, POST_BODY)
  end
  return wrk.format(
    "PATCH", base_path .. "?user_id=eq." .. user.id, headers, PATCH_BODIES[wrapped % 2 + 1]
  )
end

function done(summary, latency, requests)
  -- POST must never reuse a user: report how often a thread ran out of fresh ones.
  local exhausted = 0
  for _, thread in ipairs(threads) do
    if mode == "post" then
      exhausted = exhausted + (thread:get("wrapped") or 0)
    end
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}, '
      .. '"users_exhausted": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, exhausted
  ))
end
