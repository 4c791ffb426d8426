import AviaryCore
import Testing

@Suite struct InvocationMetricsTests {
    @Test func invocationsErrorsAndThrottlesLandInTheirSecond() {
        var metrics = InvocationMetrics(retention: 60)
        metrics.recordInvocation(at: 100, durationMilliseconds: 3, failed: false)
        metrics.recordInvocation(at: 100, durationMilliseconds: 40, failed: true)
        metrics.recordThrottle(at: 101)
        metrics.recordInvocation(at: 102, durationMilliseconds: 2_000_000, failed: false)
        #expect(metrics.buckets.map(\.second) == [100, 101, 102])
        let first = metrics.buckets[0]
        #expect(first.invocations == 2 && first.errors == 1 && first.throttles == 0)
        #expect(first.durations[2] == 1, "3 ms falls in the ≤ 5 ms bucket")
        #expect(first.durations[5] == 1, "40 ms falls in the ≤ 50 ms bucket")
        #expect(metrics.buckets[2].durations.last == 1, "beyond the last bound is the overflow bucket")
        #expect(metrics.totals.invocations == 3 && metrics.totals.errors == 1 && metrics.totals.throttles == 1)
        #expect(metrics.totals.durationSumMilliseconds == 2_000_043)
    }

    @Test func oldSecondsAreDroppedButTotalsStay() {
        var metrics = InvocationMetrics(retention: 10)
        for second in Int64(0)..<30 { metrics.recordInvocation(at: second, durationMilliseconds: 1, failed: false) }
        #expect(metrics.buckets.first?.second == 20)
        #expect(metrics.buckets.count == 10)
        #expect(metrics.totals.invocations == 30)
        #expect(metrics.buckets(in: 25...27).map(\.second) == [25, 26, 27])
    }

    @Test func lateRecordsKeepSecondsInOrder() {
        var metrics = InvocationMetrics()
        metrics.recordInvocation(at: 10, durationMilliseconds: 1, failed: false)
        metrics.recordInvocation(at: 8, durationMilliseconds: 1, failed: false)
        metrics.recordInvocation(at: 10, durationMilliseconds: 1, failed: false)
        #expect(metrics.buckets.map(\.second) == [8, 10])
        #expect(metrics.buckets.map(\.invocations) == [1, 2])
    }
}
