-- GET /movement_profiles?user_id=eq.U with Accept: application/vnd.pgrst.object+json: the
-- transaction PostgREST 12.0.2 runs for it (captured with log_statement = all), so the gap
-- between this and wrk against PostgREST is PostgREST's own cost.
-- @NAME@ placeholders are filled in by bench/run_bench.py; :k and :client_id are pgbench's.
-- @PRE_REQUEST@ becomes PostgREST's call of its db-pre-request function when one is configured;
-- @CLAIMS@ and @HEADERS@ are SQL expressions, the headers' token carrying the client's claims.
\set k :k + 1
\set n @FIRST_USER@ + :client_id * @USERS_PER_CLIENT@ + :k % @USERS_PER_CLIENT@
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
select set_config('search_path', '@SEARCH_PATH@', true), set_config('statement_timeout', '8s', true), set_config('role', 'authenticated', true), set_config('request.jwt.claims', @CLAIMS@, true), set_config('request.method', 'GET', true), set_config('request.path', '@REQUEST_PATH@', true), set_config('request.headers', @HEADERS@, true), set_config('request.cookies', '{}', true);
@PRE_REQUEST@
WITH pgrst_source AS ( SELECT @TABLE@.* FROM @TABLE@  WHERE  @TABLE@."user_id" = ('00000000-0000-4000-8000-' || lpad(to_hex(:n::bigint), 12, '0'))::uuid   LIMIT 1000 OFFSET 0 )  SELECT null::bigint AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, coalesce(json_agg(_postgrest_t)->0, 'null') AS body, nullif(current_setting('response.headers', true), '') AS response_headers, nullif(current_setting('response.status', true), '') AS response_status, '' AS response_inserted FROM ( SELECT * FROM pgrst_source ) _postgrest_t;
COMMIT;
