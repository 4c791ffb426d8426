@testable import AviaryRuntime
import Testing

@Suite struct ReportFormattingTests {
    @Test(arguments: [(0.0, "0.00"), (1.005, "1.00"), (1.006, "1.01"), (79.666, "79.67"), (1000.1, "1000.10"), (0.049, "0.05")])
    func durationsHaveTwoDecimalsAsInAWSsReportLines(value: Double, text: String) {
        #expect(ExecutionEnvironment.twoDecimals(value) == text)
    }
}
