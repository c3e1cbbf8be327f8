-- @NAME@ placeholders are filled in by bench/measure.py: @PRE_REQUEST@ is PostgREST's call of its
-- db-pre-request function, @CLAIMS@ and @HEADERS@ are SQL expressions whose bearer token carries
-- the claims of the client's user :n, as a real request's does; the body and its columns
-- (@POST_BODY@, @COLUMNS@, @BODY_COLUMNS@, @RECORD@) are spelled as PostgREST spells them.
-- POST /movement_profiles (Prefer: return=representation, Accept: object): the transaction
-- PostgREST 12.0.2 runs for it. Each transaction creates the profile of a user that has none yet:
-- client c uses users FIRST_USER + c * USERS_PER_CLIENT + k, k = 1, 2, ... (a reuse would be a
-- unique violation, which aborts pgbench loudly rather than measuring errors).
\set k :k + 1
\set n @FIRST_USER@ + :client_id * @USERS_PER_CLIENT@ + :k
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', '@SEARCH_PATH@', true), set_config('statement_timeout', '8s', true), set_config('role', 'authenticated', true), set_config('request.jwt.claims', @CLAIMS@, true), set_config('request.method', 'POST', true), set_config('request.path', '/movement_profiles', true), set_config('request.headers', @HEADERS@, true), set_config('request.cookies', '{}', true);
@PRE_REQUEST@
WITH pgrst_source AS (INSERT INTO @TABLE@(@COLUMNS@) SELECT @BODY_COLUMNS@ FROM (SELECT @POST_BODY@::json AS json_data) pgrst_payload, LATERAL (SELECT CASE WHEN json_typeof(pgrst_payload.json_data) = 'array' THEN pgrst_payload.json_data ELSE json_build_array(pgrst_payload.json_data) END AS val) pgrst_uniform_json, LATERAL (SELECT @COLUMNS@ FROM json_to_recordset(pgrst_uniform_json.val) AS _(@RECORD@) ) pgrst_body  RETURNING @TABLE@.*) SELECT '' AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, array[]::text[] AS header, coalesce(json_agg(_postgrest_t)->0, 'null') AS body, nullif(current_setting('response.headers', true), '') AS response_headers, nullif(current_setting('response.status', true), '') AS response_status, '' AS response_inserted FROM (SELECT "movement_profiles".* FROM "pgrst_source" AS "movement_profiles"     ) _postgrest_t;
COMMIT;
