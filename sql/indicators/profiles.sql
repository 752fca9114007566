-- Region-profile indicators (地区基础概况, yearbook figures) per unit of the scope, from
-- ind_unit_profiles (profile_units.sql: the unit's own row for the period's year, else the sum of
-- its parts). Date basis: the profile of the period's calendar year (a quarter uses its year's
-- profile). No record count: these figures are not built from records (record_count NULL, no
-- small-count treatment), except the special-equipment accidents, which are counted events. value NULL when the profile or the denominator is missing or zero.
WITH p AS (
    SELECT s.unit_code, f.population, f.market_entities, f.service_stations, f.consumer_org_branches,
           f.protection_staff, f.protection_funding_10k_yuan, f.special_equipment_units,
           f.special_equipment_accidents, f.annual_report_rate, f.inspected_businesses,
           f.inspected_price_licence_ok, f.online_shops, f.online_shops_emark
    FROM ind_scope_units s
    LEFT JOIN ind_unit_profiles f ON f.unit_code = s.unit_code
)

-- @indicator special_equipment_accidents_per_10k_units
-- @kind per10k
-- @scale 10000
-- @region profile: the unit's own profile row, else the sum of its parts
-- @date profile year = the period's year
-- @numerator special_equipment_accidents (特种设备事故数)
-- @denominator special_equipment_units (特种设备数量)
-- @zh 每万台特种设备事故起数 = 特种设备事故数 × 10000 ÷ 特种设备数量（事故为少数事件：record_count = 事故数，
--     不足 min_records 起时向全域合并率收缩）
-- @en Special-equipment accidents x 10,000 / special-equipment units (accidents are few events:
--     record_count = the accidents, shrunk toward the scope rate under min_records)
-- The one profile indicator counted in events: record_count = the accidents (a Poisson count over the
-- exposure special_equipment_units), so the small-count treatment and index_model.noise apply to it.
SELECT 'special_equipment_accidents_per_10k_units' AS indicator_id, p.unit_code AS region_code,
       p.special_equipment_accidents AS numerator,
       p.special_equipment_units AS denominator,
       CASE WHEN p.special_equipment_units > 0
            THEN p.special_equipment_accidents * 10000.0 / p.special_equipment_units END AS value,
       CAST(p.special_equipment_accidents AS BIGINT) AS record_count
FROM p

UNION ALL
-- @indicator annual_report_filing_rate
-- @kind profile
-- @region profile: the unit's own profile row, else the sum of its parts
-- @date profile year = the period's year
-- @numerator annual_report_rate x market_entities (entities that filed, estimated)
-- @denominator market_entities
-- @zh 企业年报公示率 = 地区概况中的年报公示率（由下级汇总时按市场主体数加权）
-- @en Annual-report filing rate of the region profile (market-entity-weighted mean when summed from parts)
SELECT 'annual_report_filing_rate', p.unit_code,
       p.annual_report_rate * p.market_entities,
       p.market_entities,
       p.annual_report_rate,
       CAST(NULL AS BIGINT)
FROM p

UNION ALL
-- @indicator service_stations_per_10k_entities
-- @kind profile
-- @scale 10000
-- @region profile: the unit's own profile row, else the sum of its parts
-- @date profile year = the period's year
-- @numerator service_stations (12315维权服务站, 五进)
-- @denominator market_entities
-- @zh 每万户市场主体12315维权服务站数 = 12315维权服务站数 × 10000 ÷ 市场主体数量
-- @en 12315 service stations x 10,000 / market entities
SELECT 'service_stations_per_10k_entities', p.unit_code,
       p.service_stations,
       p.market_entities,
       CASE WHEN p.market_entities > 0 THEN p.service_stations * 10000.0 / p.market_entities END,
       CAST(NULL AS BIGINT)
FROM p

UNION ALL
-- @indicator price_licence_display_rate
-- @kind profile
-- @region profile: the unit's own profile row, else the sum of its parts
-- @date profile year = the period's year
-- @numerator inspected_price_licence_ok (检查中明码标价且亮照经营的经营户数; self-reported)
-- @denominator inspected_businesses (检查经营户数)
-- @zh 明码标价及亮照经营率 = 检查中明码标价且亮照经营的经营户数 ÷ 检查经营户数（识别便利；各地自报数据）
-- @en Businesses inspected that mark prices clearly (明码标价) and display their licence (亮照经营) /
--     businesses inspected (ease of identification; self-reported by the bureaus)
SELECT 'price_licence_display_rate', p.unit_code,
       p.inspected_price_licence_ok,
       p.inspected_businesses,
       CASE WHEN p.inspected_businesses > 0 THEN p.inspected_price_licence_ok / p.inspected_businesses END,
       CAST(NULL AS BIGINT)
FROM p

UNION ALL
-- @indicator online_licence_emark_rate
-- @kind profile
-- @region profile: the unit's own profile row, else the sum of its parts
-- @date profile year = the period's year
-- @numerator online_shops_emark (公示电子营业执照/电子标识的网店数; self-reported)
-- @denominator online_shops (网店数)
-- @zh 网店亮照（电子标识）公示率 = 首页公示营业执照信息（电子标识）的网店数 ÷ 网店数（识别便利；各地自报数据）
-- @en Online shops showing their business-licence e-mark / online shops (ease of identification;
--     self-reported by the bureaus)
SELECT 'online_licence_emark_rate', p.unit_code,
       p.online_shops_emark,
       p.online_shops,
       CASE WHEN p.online_shops > 0 THEN p.online_shops_emark / p.online_shops END,
       CAST(NULL AS BIGINT)
FROM p

UNION ALL
-- @indicator consumer_orgs_per_10k_residents
-- @kind profile
-- @scale 10000
-- @region profile: the unit's own profile row, else the sum of its parts
-- @date profile year = the period's year
-- @numerator consumer_org_branches + service_stations (消协分会 + 维权服务站)
-- @denominator population
-- @zh 每万人消费维权组织及站点数 =（消协分会数 + 12315维权服务站数）× 10000 ÷ 常住人口
-- @en (Consumer-association branches + service stations) x 10,000 / resident population
SELECT 'consumer_orgs_per_10k_residents', p.unit_code,
       p.consumer_org_branches + p.service_stations,
       p.population,
       CASE WHEN p.population > 0 THEN (p.consumer_org_branches + p.service_stations) * 10000.0 / p.population END,
       CAST(NULL AS BIGINT)
FROM p

UNION ALL
-- @indicator protection_funding_per_10k_residents
-- @kind profile
-- @scale 10000
-- @region profile: the unit's own profile row, else the sum of its parts
-- @date profile year = the period's year
-- @numerator protection_funding_10k_yuan (消费维权经费, 万元)
-- @denominator population
-- @zh 每万人消费维权经费（万元）= 消费维权经费（万元）× 10000 ÷ 常住人口
-- @en Consumer-protection funding (10k yuan) x 10,000 / resident population
SELECT 'protection_funding_per_10k_residents', p.unit_code,
       p.protection_funding_10k_yuan,
       p.population,
       CASE WHEN p.population > 0 THEN p.protection_funding_10k_yuan * 10000.0 / p.population END,
       CAST(NULL AS BIGINT)
FROM p

UNION ALL
-- @indicator protection_staff_per_10k_residents
-- @kind profile
-- @scale 10000
-- @region profile: the unit's own profile row, else the sum of its parts
-- @date profile year = the period's year
-- @numerator protection_staff (消费维权人员数)
-- @denominator population
-- @zh 每万人消费维权人员数 = 消费维权人员数 × 10000 ÷ 常住人口
-- @en Consumer-protection staff x 10,000 / resident population
SELECT 'protection_staff_per_10k_residents', p.unit_code,
       p.protection_staff,
       p.population,
       CASE WHEN p.population > 0 THEN p.protection_staff * 10000.0 / p.population END,
       CAST(NULL AS BIGINT)
FROM p;
