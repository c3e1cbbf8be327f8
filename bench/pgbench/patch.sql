-- @NAME@ placeholders are filled in by bench/measure.py: @PRE_REQUEST@ is PostgREST's call of its
-- db-pre-request function, @CLAIMS@ and @HEADERS@ are SQL expressions whose bearer token carries
-- the claims of the client's user :n, as a real request's does; the bodies and their columns
-- (@PATCH_BODY_A@, @PATCH_BODY_B@, @ASSIGNMENTS@, @COLUMNS@, @RECORD@) are spelled as PostgREST
-- spells them.
-- PATCH /movement_profiles?user_id=eq.U (Prefer: return=representation, Accept: object): the
-- transaction PostgREST 12.0.2 runs for it. Each client updates its own slice of users, so no
-- two clients wait on the same row lock (as in the wrk run); the body alternates on each pass over
-- the slice, so every update changes the row (as in the wrk run).
\set k :k + 1
\set n @FIRST_USER@ + :client_id * @USERS_PER_CLIENT@ + :k % @USERS_PER_CLIENT@
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', '@SEARCH_PATH@', true), set_config('statement_timeout', '8s', true), set_config('role', 'authenticated', true), set_config('request.jwt.claims', @CLAIMS@, true), set_config('request.method', 'PATCH', true), set_config('request.path', '/movement_profiles', true), set_config('request.headers', @HEADERS@, true), set_config('request.cookies', '{}', true);
@PRE_REQUEST@
WITH pgrst_source AS (UPDATE @TABLE@ SET @ASSIGNMENTS@ FROM (SELECT (case when :k / @USERS_PER_CLIENT@ % 2 = 0 then @PATCH_BODY_A@ else @PATCH_BODY_B@ end)::json AS json_data) pgrst_payload, LATERAL (SELECT CASE WHEN json_typeof(pgrst_payload.json_data) = 'array' THEN pgrst_payload.json_data ELSE json_build_array(pgrst_payload.json_data) END AS val) pgrst_uniform_json, LATERAL (SELECT @COLUMNS@ FROM json_to_recordset(pgrst_uniform_json.val) AS _(@RECORD@) ) pgrst_body  WHERE  @TABLE@."user_id" = ('00000000-0000-4000-8000-' || lpad(to_hex(:n::bigint), 12, '0'))::uuid RETURNING @TABLE@.*) SELECT '' AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, array[]::text[] AS header, coalesce(json_agg(_postgrest_t)->0, 'null') AS body, nullif(current_setting('response.headers', true), '') AS response_headers, nullif(current_setting('response.status', true), '') AS response_status, '' AS response_inserted FROM (SELECT "movement_profiles".* FROM "pgrst_source" AS "movement_profiles"     ) _postgrest_t;
COMMIT;
