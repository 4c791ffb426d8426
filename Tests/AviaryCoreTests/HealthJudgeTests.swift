@testable import AviaryCore
import Testing

@Suite struct HealthJudgeTests {
    /// A whole second, so that offsets below fall in predictable one-second buckets.
    static let base: Int64 = 1_700_000_000_000

    /// `seconds` (plus `milliseconds`) after the base time.
    func at(_ seconds: Int64, _ milliseconds: Int64 = 0) -> Timestamp {
        Timestamp(millisecondsSince1970: Self.base + seconds * 1000 + milliseconds)
    }

    func judge(_ rules: String..., comparison: SequentialTest.Settings? = nil) throws -> HealthJudge {
        HealthJudge(policy: try HealthPolicy(
            rules: rules.map { text throws(DeploymentError) in try HealthRule.parse(text) }, comparison: comparison,
            minimumInvocations: 10, noData: .wait))
    }

    // MARK: Counts

    @Test func anErrorsRuleTripsOnTheDecisiveErrorAndNotBefore() throws {
        var judge = try judge("errors>=3@1m")
        #expect(judge.finding(at: at(0)) == nil)
        for (index, failed) in [false, true, false, false, true, false].enumerated() {
            judge.recordInvocation(.canary, failed: failed, durationMilliseconds: 20, weight: 0.1, at: at(Int64(index)))
            #expect(judge.finding(at: at(Int64(index))) == nil, "fewer than 3 errors after invocation \(index + 1)")
        }
        judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(6))
        let finding = try #require(judge.finding(at: at(6)))
        #expect(finding.check == "errors>=3@1m")
        #expect(finding.detail == "1 of 1 datapoints breached errors ≥ 3 (newest first: 3.0)")
    }

    @Test func errorsOutsideTheWindowNoLongerCount() throws {
        var judge = try judge("errors>=2@10s")
        judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(0))
        judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(9, 999))
        #expect(judge.finding(at: at(9)) != nil, "both errors lie in the 10 s ending now")
        #expect(judge.finding(at: at(10)) == nil, "the first error left the window")
    }

    @Test func baselineErrorsDoNotCountAgainstTheNewVersion() throws {
        var judge = try judge("errors>=1@1m")
        for second in Int64(0)..<5 {
            judge.recordInvocation(.baseline, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(second))
        }
        #expect(judge.finding(at: at(5)) == nil)
    }

    @Test func aThrottlesRuleCountsThrottlesOfTheNewVersionOnly() throws {
        var judge = try judge("throttles>=3@10s,min=5")
        for second in Int64(0)..<3 {
            judge.recordThrottle(.canary, at: at(second))
            judge.recordThrottle(.baseline, at: at(second))
        }
        #expect(judge.finding(at: at(3)) == nil, "3 throttles are fewer than the 5 requests a datapoint needs")
        judge.recordInvocation(.canary, failed: false, durationMilliseconds: 20, weight: 0.1, at: at(3))
        #expect(judge.finding(at: at(3)) == nil)
        judge.recordInvocation(.canary, failed: false, durationMilliseconds: 20, weight: 0.1, at: at(4))
        #expect(judge.finding(at: at(4))?.check == "throttles>=3@10s,min=5")
    }

    // MARK: Rates

    @Test func anErrorRateRuleIgnoresPeriodsWithFewerThanTheMinimumInvocations() throws {
        var judge = try judge("error-rate>=50%@10s")
        for index in 0..<9 {
            judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(0, Int64(index)))
            #expect(judge.finding(at: at(0)) == nil, "\(index + 1) invocations are too few for a rate")
        }
        judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(1))
        let finding = try #require(judge.finding(at: at(1)))
        #expect(finding.check == "error-rate>=50%@10s")
        #expect(finding.detail.contains("newest first: 1.0"))
    }

    @Test func anErrorRateBelowTheThresholdIsHealthy() throws {
        var judge = try judge("error-rate>=50%@10s")
        for index in 0..<20 {
            judge.recordInvocation(.canary, failed: index % 3 == 0, durationMilliseconds: 20, weight: 0.1, at: at(0))
        }
        #expect(judge.finding(at: at(0)) == nil, "7 of 20 is 35%")
        for _ in 0..<4 { judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(1)) }
        #expect(judge.finding(at: at(1)) == nil, "11 of 24 is 46%")
        for _ in 0..<2 { judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(2)) }
        #expect(judge.finding(at: at(2)) != nil, "13 of 26 is 50%")
    }

    @Test func theErrorRateThresholdIsInclusive() throws {
        var judge = try judge("error-rate>=50%@10s")
        for index in 0..<20 {
            judge.recordInvocation(.canary, failed: index < 9, durationMilliseconds: 20, weight: 0.1, at: at(0))
        }
        #expect(judge.finding(at: at(0)) == nil, "9 of 20 is 45%")
        judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(0))
        judge.recordInvocation(.canary, failed: false, durationMilliseconds: 20, weight: 0.1, at: at(0))
        #expect(judge.finding(at: at(0)) == nil, "10 of 22 is 45%")
        judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(0))
        judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(0))
        #expect(judge.finding(at: at(0)) != nil, "12 of 24 is exactly 50%")
    }

    // MARK: Missing data

    @Test func missingDataBreachingMakesAnEmptyPeriodBreach() throws {
        let judge = try judge("errors>=1@10s,missing=breaching")
        let finding = try #require(judge.finding(at: at(0)))
        #expect(finding.detail == "1 of 1 datapoints breached errors ≥ 1 (newest first: -)")
    }

    @Test(arguments: ["errors>=1@10s", "errors>=1@10s,missing=notBreaching", "errors>=1@10s,missing=ignore"])
    func otherwiseAnEmptyPeriodIsHealthy(rule: String) throws {
        #expect(try judge(rule).finding(at: at(0)) == nil)
    }

    @Test func missingDataBreachingIsSatisfiedByAHealthyDatapoint() throws {
        var judge = try judge("errors>=1@10s,missing=breaching")
        judge.recordInvocation(.canary, failed: false, durationMilliseconds: 20, weight: 0.1, at: at(0))
        #expect(judge.finding(at: at(0)) == nil)
        #expect(judge.finding(at: at(10)) != nil, "ten seconds later the period is empty again")
    }

    @Test func aPeriodBelowTheMinimumCountsAsMissingData() throws {
        var judge = try judge("error-rate>=50%@10s,missing=breaching")
        for _ in 0..<9 { judge.recordInvocation(.canary, failed: false, durationMilliseconds: 20, weight: 0.1, at: at(0)) }
        #expect(judge.finding(at: at(0)) != nil, "9 healthy invocations are no datapoint, and missing data breaches")
        judge.recordInvocation(.canary, failed: false, durationMilliseconds: 20, weight: 0.1, at: at(0))
        #expect(judge.finding(at: at(0)) == nil)
    }

    // MARK: M of N

    @Test func mOfNDatapointsMustBreach() throws {
        var judge = try judge("errors>=1@10s:2/3")
        judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(5))
        #expect(judge.finding(at: at(5)) == nil, "one breaching datapoint of the two needed")
        judge.recordInvocation(.canary, failed: false, durationMilliseconds: 20, weight: 0.1, at: at(15))
        #expect(judge.finding(at: at(15)) == nil)
        judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(25))
        // Periods ending at 25 s: 16–25 (an error), 6–15 (clean), −4–5 (an error).
        let finding = try #require(judge.finding(at: at(25)))
        #expect(finding.check == "errors>=1@10s:2/3")
        #expect(finding.detail == "2 of 3 datapoints breached errors ≥ 1 (newest first: 1.0 0.0 1.0)")
        // Periods ending at 36 s: 27–36 (empty), 17–26 (an error), 7–16 (clean).
        #expect(judge.finding(at: at(36)) == nil, "the first error has left the three periods")
    }

    @Test func mOfNCountsMissingPeriodsWhenTheyBreach() throws {
        var judge = try judge("errors>=1@10s:2/3,missing=breaching")
        judge.recordInvocation(.canary, failed: false, durationMilliseconds: 20, weight: 0.1, at: at(15))
        judge.recordInvocation(.canary, failed: false, durationMilliseconds: 20, weight: 0.1, at: at(25))
        #expect(judge.finding(at: at(25)) == nil, "16–25 and 6–15 are clean; only −4–5 is empty")
        #expect(judge.finding(at: at(35)) == nil, "26–35 is empty; 16–25 and 6–15 are clean")
        let finding = try #require(judge.finding(at: at(45)), "36–45 and 26–35 are empty")
        #expect(finding.detail == "2 of 3 datapoints breached errors ≥ 1 (newest first: - - 0.0)")
    }

    // MARK: Durations

    @Test func aPercentileRuleTripsForASlowNewVersion() throws {
        var judge = try judge("p99>=500ms@10s")
        for index in 0..<9 { judge.recordInvocation(.canary, failed: false, durationMilliseconds: 800, weight: 0.1, at: at(0, Int64(index))) }
        #expect(judge.finding(at: at(0)) == nil, "9 invocations are too few for a percentile")
        judge.recordInvocation(.canary, failed: false, durationMilliseconds: 800, weight: 0.1, at: at(1))
        let finding = try #require(judge.finding(at: at(1)))
        #expect(finding.check == "p99>=500ms@10s")
    }

    @Test func aPercentileRuleLeavesAFastNewVersionAlone() throws {
        var judge = try judge("p99>=500ms@10s")
        for index in 0..<50 { judge.recordInvocation(.canary, failed: false, durationMilliseconds: 50, weight: 0.1, at: at(Int64(index % 5))) }
        #expect(judge.finding(at: at(4)) == nil)
    }

    @Test func aPercentileJustUnderTheThresholdIsHealthyDespiteTheBucketWidth() throws {
        // 490 ms falls in a histogram bucket whose bound is above 500 ms; the decision must not use it.
        var judge = try judge("p99>=500ms@10s")
        for _ in 0..<100 { judge.recordInvocation(.canary, failed: false, durationMilliseconds: 490, weight: 0.1, at: at(0)) }
        #expect(judge.finding(at: at(0)) == nil)
        judge.recordInvocation(.canary, failed: false, durationMilliseconds: 500, weight: 0.1, at: at(0))
        judge.recordInvocation(.canary, failed: false, durationMilliseconds: 500, weight: 0.1, at: at(0))
        #expect(judge.finding(at: at(0)) != nil, "2 of 102 at the threshold put the p99 there")
    }

    @Test func aSlowBaselineDoesNotTripThePercentileRule() throws {
        var judge = try judge("p99>=500ms@10s")
        for _ in 0..<50 {
            judge.recordInvocation(.canary, failed: false, durationMilliseconds: 50, weight: 0.1, at: at(0))
            judge.recordInvocation(.baseline, failed: false, durationMilliseconds: 5000, weight: 0.1, at: at(0))
        }
        #expect(judge.finding(at: at(0)) == nil)
    }

    @Test func thePercentileLooksAtTheSlowestOnePercent() throws {
        var judge = try judge("p99>=500ms@10s")
        for _ in 0..<199 { judge.recordInvocation(.canary, failed: false, durationMilliseconds: 50, weight: 0.1, at: at(0)) }
        judge.recordInvocation(.canary, failed: false, durationMilliseconds: 800, weight: 0.1, at: at(0))
        #expect(judge.finding(at: at(0)) == nil, "1 slow invocation in 200 is beyond the 99th percentile")
        for _ in 0..<4 { judge.recordInvocation(.canary, failed: false, durationMilliseconds: 800, weight: 0.1, at: at(0)) }
        #expect(judge.finding(at: at(0)) != nil, "5 slow invocations in 204 reach it")
    }

    // MARK: Comparison

    @Test func theComparisonTripsOnTheThirdCanaryErrorAgainstACleanBaseline() throws {
        var judge = try judge(comparison: SequentialTest.Settings(alpha: 0.01))
        var canaryErrors = 0
        // Nine baseline invocations for each canary one, as a 10% weight routes them; every canary one fails.
        for round in 0..<3 {
            for _ in 0..<9 {
                judge.recordInvocation(.baseline, failed: false, durationMilliseconds: 20, weight: 0.1, at: at(Int64(round)))
            }
            #expect(judge.finding(at: at(Int64(round))) == nil, "after \(canaryErrors) canary errors")
            judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(Int64(round)))
            canaryErrors += 1
            if canaryErrors < 3 { #expect(judge.finding(at: at(Int64(round))) == nil, "after \(canaryErrors) canary errors") }
        }
        let finding = try #require(judge.finding(at: at(2)))
        #expect(finding.check == "comparison")
        #expect(finding.detail.hasPrefix("the new version fails more often than the old one: 3 errors on the new version against 0 on the old"))
        #expect(finding.detail.hasSuffix("≥ 100.0 (false-alarm chance ≤ 1%)"))
    }

    @Test func baselineErrorsHoldTheComparisonBack() throws {
        var judge = try judge(comparison: SequentialTest.Settings(alpha: 0.01))
        for _ in 0..<30 { judge.recordInvocation(.baseline, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(0)) }
        for _ in 0..<3 { judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(0)) }
        #expect(judge.finding(at: at(0)) == nil, "3 of 33 errors on the new version is what a 10% share gives")
    }

    @Test func theComparisonIsReportedAheadOfTheRules() throws {
        var judge = try judge("errors>=1@1m", comparison: SequentialTest.Settings(alpha: 0.01))
        judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(0))
        #expect(judge.finding(at: at(0))?.check == "errors>=1@1m")
        judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(0))
        judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(0))
        #expect(judge.finding(at: at(0))?.check == "comparison")
    }

    // MARK: Step evidence and reports

    @Test func stepInvocationsCountNewVersionInvocationsSinceTheStepStarted() throws {
        var judge = try judge("errors>=2@1m")
        judge.recordInvocation(.canary, failed: false, durationMilliseconds: 20, weight: 0.1, at: at(0))
        judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(0))
        judge.recordInvocation(.baseline, failed: false, durationMilliseconds: 20, weight: 0.1, at: at(0))
        judge.recordThrottle(.canary, at: at(0))
        #expect(judge.stepInvocations == 2, "failed invocations count, baseline ones and throttles do not")
        judge.startStep()
        #expect(judge.stepInvocations == 0)
        judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.5, at: at(1))
        #expect(judge.stepInvocations == 1)
        #expect(judge.finding(at: at(1))?.check == "errors>=2@1m", "health history outlives the step")
    }

    @Test func theReportTotalsBothVersions() throws {
        var judge = try judge("errors>=5@1m", comparison: SequentialTest.Settings(alpha: 0.01))
        for index in 0..<40 {
            judge.recordInvocation(.baseline, failed: index < 2, durationMilliseconds: 10, weight: 0.2, at: at(0))
        }
        for index in 0..<10 {
            judge.recordInvocation(.canary, failed: index < 1, durationMilliseconds: 100, weight: 0.2, at: at(0))
        }
        judge.recordThrottle(.canary, at: at(0))
        judge.recordThrottle(.baseline, at: at(0))
        judge.recordThrottle(.baseline, at: at(0))
        judge.startStep()
        judge.recordInvocation(.canary, failed: false, durationMilliseconds: 100, weight: 0.2, at: at(1))

        let report = judge.report(at: at(1))
        #expect(report.canary.invocations == 11)
        #expect(report.canary.errors == 1)
        #expect(report.canary.throttles == 1)
        #expect(report.canary.errorRate == 1.0 / 11)
        #expect(try #require(report.canary.p99Milliseconds) >= 100)
        #expect(try #require(report.canary.p99Milliseconds) < 110)
        #expect(report.baseline.invocations == 40)
        #expect(report.baseline.errors == 2)
        #expect(report.baseline.throttles == 2)
        #expect(report.baseline.errorRate == 0.05)
        #expect(try #require(report.baseline.p99Milliseconds) < 11)
        #expect(report.stepInvocations == 1)
        #expect(report.finding == nil)
        let evidence = try #require(report.comparisonEvidence)
        #expect(evidence < 1, "one canary error against two baseline ones at 20% is no evidence against the new version")
    }

    @Test func theReportCarriesTheFindingAndNoEvidenceWithoutAComparison() throws {
        var judge = try judge("errors>=1@1m")
        #expect(judge.report(at: at(0)).comparisonEvidence == nil)
        #expect(judge.report(at: at(0)).canary.errorRate == nil)
        judge.recordInvocation(.canary, failed: true, durationMilliseconds: 20, weight: 0.1, at: at(0))
        let report = judge.report(at: at(0))
        #expect(report.finding == judge.finding(at: at(0)))
        #expect(report.finding?.check == "errors>=1@1m")
    }

    @Test func aJudgeWithNoRulesAndNoComparisonNeverFindsAnything() throws {
        var judge = try judge()
        for index in 0..<100 {
            judge.recordInvocation(.canary, failed: true, durationMilliseconds: 9_000, weight: 0.1, at: at(Int64(index)))
        }
        #expect(judge.finding(at: at(99)) == nil)
        #expect(judge.stepInvocations == 100)
    }
}
