-- Sampling-based indicators (商品质量抽检) per unit of the scope, from ind_sampling_records
-- (sql/indicators/sampling_records.sql: period filter on sampled_on, unit of the sampling place,
-- Order No. 18 disposal status, the 0/1 numerator / denominator flags). One row per indicator and
-- unit of ind_scope_units; value NULL when the unit has no batch in the denominator.
WITH a AS (
    SELECT unit_code,
           SUM(sampling_pass_rate__den) AS sampling_pass_rate__den,
           SUM(sampling_pass_rate__num) AS sampling_pass_rate__num,
           SUM(key_category_pass_rate__den) AS key_category_pass_rate__den,
           SUM(key_category_pass_rate__num) AS key_category_pass_rate__num,
           SUM(failed_disposed_on_time_rate__den) AS failed_disposed_on_time_rate__den,
           SUM(failed_disposed_on_time_rate__num) AS failed_disposed_on_time_rate__num,
           SUM(label_failure_share__den) AS label_failure_share__den,
           SUM(label_failure_share__num) AS label_failure_share__num
    FROM ind_sampling_records
    GROUP BY unit_code
)

-- @indicator sampling_pass_rate
-- @kind share
-- @region sampling: region_code of the place of sampling
-- @date sampled_on in the period
-- @numerator batches with result 合格
-- @denominator batches with result 合格 or 不合格
-- @zh 商品质量抽检合格率 = 检验结论为合格的批次 ÷ 抽检批次
-- @en Sampling pass rate: batches passed / batches with a conclusion
SELECT 'sampling_pass_rate' AS indicator_id, s.unit_code AS region_code,
       CAST(COALESCE(a.sampling_pass_rate__num, 0) AS DOUBLE) AS numerator,
       CAST(COALESCE(a.sampling_pass_rate__den, 0) AS DOUBLE) AS denominator,
       CASE WHEN a.sampling_pass_rate__den > 0
            THEN CAST(a.sampling_pass_rate__num AS DOUBLE) / a.sampling_pass_rate__den END AS value,
       COALESCE(a.sampling_pass_rate__den, 0) AS record_count
FROM ind_scope_units s LEFT JOIN a ON a.unit_code = s.unit_code

UNION ALL
-- @indicator key_category_pass_rate
-- @kind share
-- @region sampling: region_code of the place of sampling
-- @date sampled_on in the period
-- @numerator batches passed whose product_category is a goods category of a key area in
--     reference/data/key_categories.csv (家用电子电器 and 通讯产品, 服装鞋帽, 装饰装修材料, 交通工具)
-- @denominator batches with a conclusion in those categories (the goods among the five key categories of
--     工商消字〔2013〕133号; 有关服务 is the service side and is not sampled)
-- @zh 五大重点类别抽检合格率 = 家用电子电器（含家用电器、通讯器材、电脑）、服装鞋帽、装饰装修材料、交通工具类合格批次 ÷
--     上述类别抽检批次（工商消字〔2013〕133号；类别对照 reference/data/key_categories.csv）
-- @en Pass rate of batches in the goods among the five key categories (家用电子电器 incl. communication
--     equipment and computers, 服装鞋帽, 装饰装修材料, 交通工具; mapping reference/data/key_categories.csv)
SELECT 'key_category_pass_rate', s.unit_code,
       CAST(COALESCE(a.key_category_pass_rate__num, 0) AS DOUBLE),
       CAST(COALESCE(a.key_category_pass_rate__den, 0) AS DOUBLE),
       CASE WHEN a.key_category_pass_rate__den > 0
            THEN CAST(a.key_category_pass_rate__num AS DOUBLE) / a.key_category_pass_rate__den END,
       COALESCE(a.key_category_pass_rate__den, 0)
FROM ind_scope_units s LEFT JOIN a ON a.unit_code = s.unit_code

UNION ALL
-- @indicator failed_disposed_on_time_rate
-- @kind share
-- @region sampling: region_code of the place of sampling
-- @date sampled_on in the period; disposal steps counted up to the cut-off
-- @numerator failed batches corrected within 60 days and re-inspected within 75 days of the result notice
-- @denominator failed batches due: disposed on time, or a step done late or still missing past its limit at the
--     cut-off (no notice date: due 75 days after sampling)
-- @zh 不合格商品按时处置率 = 自结果通知之日起60日内完成整改且75日内完成复查的不合格批次 ÷ 处置期限已届满
--     （或已完成处置）的不合格批次（《产品质量监督抽查管理暂行办法》第四十六、四十七条）
-- @en Failed batches disposed of on time (correction within 60 and re-inspection within 75 calendar days of the
--     notice, Order No. 18 Arts. 46-47) / failed batches due
SELECT 'failed_disposed_on_time_rate', s.unit_code,
       CAST(COALESCE(a.failed_disposed_on_time_rate__num, 0) AS DOUBLE),
       CAST(COALESCE(a.failed_disposed_on_time_rate__den, 0) AS DOUBLE),
       CASE WHEN a.failed_disposed_on_time_rate__den > 0
            THEN CAST(a.failed_disposed_on_time_rate__num AS DOUBLE) / a.failed_disposed_on_time_rate__den END,
       COALESCE(a.failed_disposed_on_time_rate__den, 0)
FROM ind_scope_units s LEFT JOIN a ON a.unit_code = s.unit_code

UNION ALL
-- @indicator label_failure_share
-- @kind share
-- @region sampling: region_code of the place of sampling
-- @date sampled_on in the period
-- @numerator failed batches with failed_label_item = true
-- @denominator failed batches (result 不合格) with failed_label_item given
-- @zh 不合格样品中标签标识不合格占比 = 标签标识项目不合格的批次 ÷ 不合格批次
-- @en Share of failed batches failing on a labelling item
SELECT 'label_failure_share', s.unit_code,
       CAST(COALESCE(a.label_failure_share__num, 0) AS DOUBLE),
       CAST(COALESCE(a.label_failure_share__den, 0) AS DOUBLE),
       CASE WHEN a.label_failure_share__den > 0
            THEN CAST(a.label_failure_share__num AS DOUBLE) / a.label_failure_share__den END,
       COALESCE(a.label_failure_share__den, 0)
FROM ind_scope_units s LEFT JOIN a ON a.unit_code = s.unit_code;
