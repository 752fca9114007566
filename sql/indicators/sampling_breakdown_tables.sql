-- Drill-down tables of one sampling indicator for every unit at once, from ind_breakdown_members
-- (sampling_breakdown_members.sql): per unit and grouping (table) the batches and batches in the
-- numerator per key, the top $top per unit and table (most batches first, then the keys ascending,
-- a missing key written （空）), with the size of the frame for the shares (see
-- complaints_breakdown_tables.sql). gid: GROUPING() bits of (product_category, product_name,
-- seller_name, seller_uscc, manufacturer_name, manufacturer_uscc, venue_type), 1 = not a key.
-- Parameters: $top.
WITH g AS (
    SELECT m.unit,
           GROUPING(m.product_category, m.product_name, m.seller_name, m.seller_uscc, m.manufacturer_name,
                    m.manufacturer_uscc, m.venue_type) AS gid,
           m.product_category, m.product_name, m.seller_name, m.seller_uscc, m.manufacturer_name,
           m.manufacturer_uscc, m.venue_type,
           count(*)              AS records,
           sum(m.in_numerator)   AS in_numerator,
           count(m.in_numerator) AS n_numerator
    FROM ind_breakdown_members m
    GROUP BY GROUPING SETS ((m.unit, m.product_category), (m.unit, m.product_category, m.product_name),
                            (m.unit, m.seller_name, m.seller_uscc), (m.unit, m.manufacturer_name, m.manufacturer_uscc),
                            (m.unit, m.venue_type))
), w AS (
    SELECT g.*,
           sum(g.records) OVER (PARTITION BY g.unit, g.gid)     AS frame_records,
           sum(g.n_numerator) OVER (PARTITION BY g.unit, g.gid) AS frame_numerator,
           row_number() OVER (PARTITION BY g.unit, g.gid
                              ORDER BY g.records DESC,
                                       coalesce(g.product_category, '（空）'), coalesce(g.product_name, '（空）'),
                                       coalesce(g.seller_name, '（空）'), coalesce(g.seller_uscc, '（空）'),
                                       coalesce(g.manufacturer_name, '（空）'), coalesce(g.manufacturer_uscc, '（空）'),
                                       coalesce(g.venue_type, '（空）')) AS place
    FROM g
)
SELECT *
FROM w
WHERE w.place <= $top
ORDER BY w.unit, w.gid, w.place;
