@testable import AviaryCore
import Testing

@Suite struct SequentialTestTests {
    let settings = try! SequentialTest.Settings(alpha: 0.01)

    /// One simulated deployment: invocations routed to the new version with probability `weight`, failing
    /// with `canaryErrorRate` or `baselineErrorRate`, until the test rejects equality or `limit` says stop.
    /// Returns the number of canary invocations seen when it rejected, or nil when it never did.
    func run(
        weight: Double, canaryErrorRate: Double, baselineErrorRate: Double, random: inout SeededRandom,
        invocations: Int = .max, canaryInvocations: Int = .max
    ) -> Int? {
        var test = SequentialTest(settings: settings)
        var canarySeen = 0
        var seen = 0
        while seen < invocations, canarySeen < canaryInvocations {
            seen += 1
            let onCanary = random.chance(weight)
            if onCanary { canarySeen += 1 }
            guard random.chance(onCanary ? canaryErrorRate : baselineErrorRate) else { continue }
            test.recordError(onCanary: onCanary, weight: weight)
            if test.rejectsEquality { return canarySeen }
        }
        return nil
    }

    @Test func theSeededGeneratorIsSplitMix64() {
        var random = SeededRandom(seed: 0)
        #expect(random.next() == 0xE220_A839_7B1D_CDAF)
        #expect(random.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(random.next() == 0x06C4_5D18_8009_454F)
    }

    @Test func equallyGoodVersionsRarelyRaiseAFalseAlarm() {
        var random = SeededRandom(seed: 0x5EED_0001)
        let runs = 400
        var alarms = 0
        for _ in 0..<runs {
            if run(weight: 0.1, canaryErrorRate: 0.05, baselineErrorRate: 0.05, random: &random, invocations: 2000) != nil {
                alarms += 1
            }
        }
        #expect(Double(alarms) / Double(runs) <= settings.alpha, "\(alarms) false alarms in \(runs) runs")
    }

    @Test func equallyGoodVersionsRarelyRaiseAFalseAlarmWhileTheWeightClimbs() {
        var random = SeededRandom(seed: 0x5EED_0002)
        let runs = 400
        var alarms = 0
        for _ in 0..<runs {
            // A linear deployment: 200 invocations at each of 10%, 20%, … 90%, both versions failing 10% of the time.
            var test = SequentialTest(settings: settings)
            var alarmed = false
            for step in 1...9 where !alarmed {
                let weight = Double(step) / 10
                for _ in 0..<200 {
                    guard random.chance(0.1) else { continue }
                    test.recordError(onCanary: random.chance(weight), weight: weight)
                    if test.rejectsEquality { alarmed = true }
                }
            }
            if alarmed { alarms += 1 }
        }
        #expect(Double(alarms) / Double(runs) <= settings.alpha, "\(alarms) false alarms in \(runs) runs")
    }

    @Test func aVersionThatAlwaysFailsIsStoppedWithinFiveCanaryInvocations() throws {
        var random = SeededRandom(seed: 0x5EED_0003)
        for _ in 0..<200 {
            let stoppedAfter = try #require(run(weight: 0.1, canaryErrorRate: 1, baselineErrorRate: 0, random: &random, canaryInvocations: 1000))
            #expect(stoppedAfter <= 5)
            #expect(stoppedAfter == 3, "three errors at a 10% canary are decisive")
        }
    }

    @Test func aVersionFailingOneInTenIsStoppedWithinFiveHundredCanaryInvocations() {
        var random = SeededRandom(seed: 0x5EED_0004)
        let runs = 200
        var stopped = 0
        for _ in 0..<runs {
            if let canaryInvocations = run(weight: 0.1, canaryErrorRate: 0.1, baselineErrorRate: 0, random: &random, canaryInvocations: 500) {
                #expect(canaryInvocations <= 500)
                stopped += 1
            }
        }
        #expect(Double(stopped) / Double(runs) >= 0.99, "stopped in \(stopped) of \(runs) runs")
    }

    @Test func aVersionFailingFourTimesAsOftenAsANoisyBaselineIsUsuallyStopped() {
        var random = SeededRandom(seed: 0x5EED_0005)
        let runs = 200
        var stopped = 0
        for _ in 0..<runs {
            if run(weight: 0.1, canaryErrorRate: 0.2, baselineErrorRate: 0.05, random: &random, canaryInvocations: 500) != nil {
                stopped += 1
            }
        }
        #expect(Double(stopped) / Double(runs) >= 0.95, "stopped in \(stopped) of \(runs) runs")
    }

    // MARK: Single steps

    @Test func aFreshTestHasNeutralEvidence() {
        let test = SequentialTest(settings: settings)
        #expect(test.evidence == 1)
        #expect(!test.rejectsEquality)
        #expect(test.canaryErrors == 0 && test.baselineErrors == 0)
    }

    @Test(arguments: [0.0, 1.0])
    func errorsWhileOneVersionTakesAllTrafficChangeNothing(weight: Double) {
        var test = SequentialTest(settings: settings)
        for _ in 0..<50 {
            test.recordError(onCanary: true, weight: weight)
            test.recordError(onCanary: false, weight: weight)
        }
        #expect(test.evidence == 1)
        #expect(!test.rejectsEquality)
        #expect(test.canaryErrors == 0 && test.baselineErrors == 0)
        #expect(test == SequentialTest(settings: settings))
    }

    @Test func canaryErrorsRaiseTheEvidenceAndBaselineErrorsLowerIt() {
        var test = SequentialTest(settings: settings)
        test.recordError(onCanary: true, weight: 0.1)
        let afterCanary = test.evidence
        #expect(afterCanary > 1)
        test.recordError(onCanary: false, weight: 0.1)
        #expect(test.evidence < afterCanary)
        #expect(test.canaryErrors == 1 && test.baselineErrors == 1)
        var clean = SequentialTest(settings: settings)
        clean.recordError(onCanary: false, weight: 0.1)
        #expect(clean.evidence < 1)
    }

    @Test func theThirdCanaryErrorAtATenPercentCanaryCrossesOneOverAlpha() {
        var test = SequentialTest(settings: settings)
        test.recordError(onCanary: true, weight: 0.1)
        test.recordError(onCanary: true, weight: 0.1)
        #expect(!test.rejectsEquality)
        #expect(test.evidence > 20 && test.evidence < 100)
        test.recordError(onCanary: true, weight: 0.1)
        #expect(test.rejectsEquality)
        // The mean over k = 2, 4, 8, 16, 32 of (q/w)³ with q = k·w / (k·w + 1 − w).
        var total = 0.0
        for k in [2.0, 4, 8, 16, 32] {
            let q: Double = k * 0.1 / (k * 0.1 + 0.9)
            let ratio: Double = q / 0.1
            total += ratio * ratio * ratio
        }
        let expected = total / 5
        #expect(abs(test.evidence - expected) < 1e-9 * expected)
    }

    @Test func aStricterAlphaNeedsMoreEvidence() throws {
        var test = SequentialTest(settings: try SequentialTest.Settings(alpha: 0.001))
        for _ in 0..<3 { test.recordError(onCanary: true, weight: 0.1) }
        #expect(!test.rejectsEquality, "evidence about 175 is short of 1000")
        test.recordError(onCanary: true, weight: 0.1)
        #expect(test.rejectsEquality)
    }

    @Test func overwhelmingEvidenceNeitherTurnsIntoNaNNorFallsBelowZero() {
        var failing = SequentialTest(settings: settings)
        for _ in 0..<2000 { failing.recordError(onCanary: true, weight: 0.01) }
        #expect(!failing.evidence.isNaN)
        #expect(failing.rejectsEquality)
        var healthy = SequentialTest(settings: settings)
        for _ in 0..<2000 { healthy.recordError(onCanary: false, weight: 0.5) }
        #expect(healthy.evidence >= 0 && healthy.evidence < 1e-100)
        #expect(!healthy.rejectsEquality)
    }

    @Test(arguments: [(0.0, [2.0]), (0.5, [2.0]), (-0.1, [2.0]), (0.01, []), (0.01, [1.0]), (0.01, [2.0, 0.5]), (0.01, [Double.infinity])] as [(Double, [Double])])
    func settingsOutsideTheirRangeAreRefused(alpha: Double, effectSizes: [Double]) {
        let error = #expect(throws: DeploymentError.self) { try SequentialTest.Settings(alpha: alpha, effectSizes: effectSizes) }
        #expect(error?.code == "InvalidHealthPolicy")
    }

    @Test func defaultSettingsAreOnePercentOverFiveEffectSizes() {
        let settings = SequentialTest.Settings()
        #expect(settings.alpha == 0.01)
        #expect(settings.effectSizes == [2, 4, 8, 16, 32])
    }
}
