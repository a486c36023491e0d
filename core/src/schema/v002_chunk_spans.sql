-- runstore schema v2: chunks indexed by their whole step span.
--
-- A chart's edges need the chunks that overlap a step range (first_step <= b AND
-- last_step >= a). With only (series_id, first_step) indexed, SQLite had to read the row of
-- every earlier chunk of the series to check its last_step: for the end of a long series,
-- nearly the whole series, page by page (in the browser, a fetch each). With last_step in the
-- index, that check reads index entries only (hundreds per page) and just the overlapping
-- chunks are read. Readers of v1 understand v2 files: nothing else changed.

DROP INDEX metric_chunks_by_series;
CREATE INDEX metric_chunks_by_span ON metric_chunks (series_id, first_step, last_step);
