@testable import AviaryCore
import Foundation
import Testing

@Suite struct HealthRuleTests {
    @Test func anErrorsRuleTakesEveryDefault() throws {
        let rule = try HealthRule.parse("errors>=1")
        #expect(rule.metric == .errors)
        #expect(rule.threshold == 1)
        #expect(rule.periodMilliseconds == 60_000)
        #expect(rule.evaluationPeriods == 1)
        #expect(rule.datapointsToAlarm == 1)
        #expect(rule.missingData == .missing)
        #expect(rule.minimumInvocations == 1, "a count needs no minimum sample")
        #expect(rule.description == "errors>=1@1m")
    }

    @Test func anErrorRateIsReadAsAPercentage() throws {
        let rule = try HealthRule.parse("error-rate>=5%@1m")
        #expect(rule.metric == .errorRate)
        #expect(rule.threshold == 0.05)
        #expect(rule.periodMilliseconds == 60_000)
        #expect(rule.minimumInvocations == 10, "a rate of a handful of invocations is noise")
        #expect(rule.description == "error-rate>=5%@1m")
    }

    @Test func anErrorRateAsAFractionIsTheSameRule() throws {
        let fraction = try HealthRule.parse("error-rate>=0.05")
        #expect(fraction.threshold == 0.05)
        #expect(fraction == (try HealthRule.parse("error-rate>=5%@1m")))
    }

    @Test func aPercentileRuleReadsItsPeriodDatapointsAndMissingData() throws {
        let rule = try HealthRule.parse("p99>=500ms@30s:2/3,missing=breaching")
        #expect(rule.metric == .durationPercentile(99))
        #expect(rule.threshold == 500)
        #expect(rule.periodMilliseconds == 30_000)
        #expect(rule.datapointsToAlarm == 2)
        #expect(rule.evaluationPeriods == 3)
        #expect(rule.missingData == .breaching)
        #expect(rule.minimumInvocations == 10)
        #expect(rule.description == "p99>=500ms@30s:2/3,missing=breaching")
    }

    @Test func aThrottlesRuleReadsItsMinimum() throws {
        let rule = try HealthRule.parse("throttles>=3@10s,min=5")
        #expect(rule.metric == .throttles)
        #expect(rule.threshold == 3)
        #expect(rule.periodMilliseconds == 10_000)
        #expect(rule.evaluationPeriods == 1 && rule.datapointsToAlarm == 1)
        #expect(rule.minimumInvocations == 5)
        #expect(rule.description == "throttles>=3@10s,min=5")
    }

    @Test(arguments: [
        ("error-rate>=5%", HealthRule.Metric.errorRate), ("errorrate>=5%", .errorRate), ("error_rate>=5%", .errorRate),
        ("ERRORS>=1", .errors), ("p50>=1s", .durationPercentile(50)), ("p99.9>=1s", .durationPercentile(99.9)),
    ])
    func metricsAreReadInEverySpelling(text: String, metric: HealthRule.Metric) throws {
        #expect(try HealthRule.parse(text).metric == metric)
    }

    @Test func spacesAroundPartsAreIgnored() throws {
        let rule = try HealthRule.parse("  p95 >= 1.5s@1m , missing=notBreaching , min=3 ")
        #expect(rule.metric == .durationPercentile(95))
        #expect(rule.threshold == 1500)
        #expect(rule.missingData == .notBreaching)
        #expect(rule.minimumInvocations == 3)
    }

    @Test(arguments: [
        "errors>=1", "error-rate>=5%@1m", "error-rate>=0.05", "p99>=500ms@30s:2/3,missing=breaching", "throttles>=3@10s,min=5",
        "error-rate>=12.5%@5m:3/5,missing=notBreaching,min=20", "p99.9>=1m30s@1h", "errors>=2.5@1s:1/1440,missing=ignore",
        "error-rate>=100%", "errors>=0",
    ])
    func theDescriptionParsesBackToTheSameRule(text: String) throws {
        let rule = try HealthRule.parse(text)
        #expect(try HealthRule.parse(rule.description) == rule)
    }

    @Test func aRuleBuiltInCodeDescribesItselfInTheParsedForm() throws {
        let rule = try HealthRule(
            metric: .durationPercentile(99.9), threshold: 250, periodMilliseconds: 90_000, evaluationPeriods: 5,
            datapointsToAlarm: 3, missingData: .notBreaching, minimumInvocations: 20)
        #expect(rule.description == "p99.9>=250ms@1m30s:3/5,missing=notBreaching,min=20")
        #expect(try HealthRule.parse(rule.description) == rule)
    }

    @Test func aRuleSurvivesJSON() throws {
        let rule = try HealthRule.parse("p99>=500ms@30s:2/3,missing=breaching")
        let data = try JSONEncoder().encode(rule)
        #expect(String(decoding: data, as: UTF8.self).contains(#""metric":"p99""#))
        #expect(try JSONDecoder().decode(HealthRule.self, from: data) == rule)
    }

    // MARK: Errors

    /// Parses `text`, expecting an InvalidHealthPolicy error; returns its message.
    func invalidRuleMessage(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        let error = #expect(throws: DeploymentError.self, sourceLocation: sourceLocation) { try HealthRule.parse(text) }
        #expect(error?.code == "InvalidHealthPolicy", sourceLocation: sourceLocation)
        #expect(error?.kind == .invalidRequest, sourceLocation: sourceLocation)
        return error?.message
    }

    @Test(arguments: ["latency>=5", "p100>=1s", "p0>=1s", "pxx>=1s", ">=1", "errors", "errors=1", "", "errors>=1@1m:2"])
    func aMalformedRuleIsRefusedWithTheUsage(text: String) {
        #expect(invalidRuleMessage(text)?.contains("such as error-rate>=5%@1m") == true)
    }

    @Test(arguments: ["errors>=lots", "errors>=5%", "p99>=500", "error-rate>=five%", "errors>=1@5"])
    func aThresholdOrPeriodInTheWrongShapeIsRefused(text: String) {
        #expect(invalidRuleMessage(text)?.contains("got \(text)") == true)
    }

    @Test(arguments: ["error-rate>=150%", "error-rate>=1.5", "error-rate>=100.1%"])
    func anErrorRateAboveAHundredPercentIsRefused(text: String) {
        #expect(invalidRuleMessage(text)?.contains("up to 100%") == true)
    }

    @Test func aNegativeThresholdIsRefused() {
        #expect(invalidRuleMessage("errors>=-1")?.contains("at least 0") == true)
    }

    @Test(arguments: ["errors>=1@1m:3/2", "errors>=1@1m:0/3", "errors>=1@1m:2/0", "errors>=1@1m:1/1441"])
    func datapointsMustBeBetweenOneAndTheEvaluationPeriods(text: String) {
        let message = invalidRuleMessage(text)
        #expect(message?.contains("datapoints to alarm") == true || message?.contains("evaluation periods must be") == true)
    }

    @Test(arguments: ["errors>=1@1500ms", "errors>=1@500ms", "errors>=1@0s", "errors>=1@25h"])
    func aPeriodIsWholeSecondsUpToADay(text: String) {
        #expect(invalidRuleMessage(text)?.contains("whole seconds") == true)
    }

    @Test(arguments: ["errors>=1,foo=bar", "errors>=1,min", "errors>=1,missing", "errors>=1,min=few"])
    func anUnknownOrIncompleteOptionIsRefused(text: String) {
        #expect(invalidRuleMessage(text)?.contains("[,missing=…][,min=…]") == true)
    }

    @Test func anUnknownMissingDataTreatmentListsTheChoices() {
        #expect(invalidRuleMessage("errors>=1,missing=sometimes") == "missing= takes missing, breaching, notBreaching, ignore; got sometimes")
    }

    @Test func aMinimumBelowOneIsRefused() {
        #expect(invalidRuleMessage("error-rate>=5%,min=0")?.contains("at least 1") == true)
    }
}
