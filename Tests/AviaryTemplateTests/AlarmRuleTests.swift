import AviaryCore
@testable import AviaryTemplate
import Foundation
import Testing

/// `DeploymentPreference.Alarms`: each CloudWatch alarm of the template becomes the equivalent health rule.
@Suite struct AlarmRuleTests {
    /// `OrdersFunction` guarded by `alarms` (YAML list items), with `Alarm` defined by `properties`.
    func template(alarmProperties properties: String, alarms: String = "- !Ref Alarm", top: String = "") -> String {
        let indentedAlarms = alarms.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
        let indentedProperties = properties.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
        return ordersTemplate(
            "AutoPublishAlias: live\nDeploymentPreference:\n  Type: Canary10Percent5Minutes\n  Alarms:\n" + indentedAlarms,
            resources: "Alarm:\n  Type: AWS::CloudWatch::Alarm\n  Properties:\n" + indentedProperties, top: top)
    }

    func rules(_ properties: String, alarms: String = "- !Ref Alarm", top: String = "", parameters: [String: String] = [:]) throws -> [String] {
        let spec = try parseTemplate(template(alarmProperties: properties, alarms: alarms, top: top), parameters: parameters)
        #expect(!spec.warnings.contains { $0.contains("Alarm (AWS::CloudWatch::Alarm)") }, "a used alarm is read, so not listed")
        return try #require(spec.function("OrdersFunction")?.deployment?.rules).map(\.description)
    }

    func refusal(_ properties: String, alarms: String = "- !Ref Alarm") throws -> String? {
        try templateError(template(alarmProperties: properties, alarms: alarms))
    }

    static let errors = "Namespace: AWS/Lambda\nMetricName: Errors\nStatistic: Sum\nPeriod: 60\nEvaluationPeriods: 1\n"

    @Test func anErrorCountAtOrAboveItsThresholdIsTheSameRule() throws {
        #expect(try rules(Self.errors + "Threshold: 3\nComparisonOperator: GreaterThanOrEqualToThreshold") == ["errors>=3@1m"])
    }

    @Test func greaterThanACountIsAtLeastTheNextWholeCount() throws {
        #expect(try rules(Self.errors + "Threshold: 0\nComparisonOperator: GreaterThanThreshold") == ["errors>=1@1m"])
        #expect(try rules(Self.errors + "Threshold: 2.5\nComparisonOperator: GreaterThanThreshold") == ["errors>=3@1m"])
    }

    @Test func throttlesWithPeriodsDatapointsAndMissingData() throws {
        let rules = try rules(
            """
            Namespace: AWS/Lambda
            MetricName: Throttles
            Statistic: Sum
            Period: 10
            EvaluationPeriods: 5
            DatapointsToAlarm: 3
            Threshold: 1
            ComparisonOperator: GreaterThanOrEqualToThreshold
            TreatMissingData: breaching
            """)
        #expect(rules == ["throttles>=1@10s:3/5,missing=breaching"])
    }

    @Test func aDurationPercentileKeepsItsThresholdInMilliseconds() throws {
        let duration = "Namespace: AWS/Lambda\nMetricName: Duration\nExtendedStatistic: p99.9\nPeriod: 300\nEvaluationPeriods: 2\nThreshold: 1500\n"
        #expect(try rules(duration + "ComparisonOperator: GreaterThanThreshold") == ["p99.9>=1s500ms@5m:2/2"])
        #expect(try rules(duration + "ComparisonOperator: GreaterThanOrEqualToThreshold") == ["p99.9>=1s500ms@5m:2/2"])
    }

    @Test func alarmPropertiesAreEvaluatedAndAlarmsChosenByConditions() throws {
        let top = "Parameters:\n  Limit: {Type: Number, Default: 5}\nConditions:\n  Strict: !Equals [!Ref Limit, '1']"
        let alarms = "- !Ref Alarm\n- !If [Strict, !Ref Alarm, !Ref AWS::NoValue]"
        let properties = Self.errors + "Threshold: !Ref Limit\nComparisonOperator: GreaterThanOrEqualToThreshold"
        #expect(try rules(properties, alarms: alarms, top: top) == ["errors>=5@1m"])
        #expect(try rules(properties, alarms: alarms, top: top, parameters: ["Limit": "1"]) == ["errors>=1@1m", "errors>=1@1m"])
    }

    @Test func anAlarmThatIsNotATemplateResourceIsRefused() throws {
        #expect(
            try refusal(Self.errors + "Threshold: 1\nComparisonOperator: GreaterThanThreshold", alarms: "- orders-errors")
                == "OrdersFunction DeploymentPreference.Alarms[0]: 'orders-errors' is not an alarm of this template; Aviary cannot read "
                + "CloudWatch, so each alarm must be !Ref to an AWS::CloudWatch::Alarm resource here")
        #expect(
            try refusal(Self.errors + "Threshold: 1\nComparisonOperator: GreaterThanThreshold", alarms: "- !Ref OrdersFunction")
                == "OrdersFunction DeploymentPreference.Alarms[0]: OrdersFunction is AWS::Serverless::Function, not an AWS::CloudWatch::Alarm")
    }

    @Test func alarmsAviaryCannotJudgeAreRefusedByName() throws {
        #expect(
            try refusal("Metrics:\n  - Id: rate\n    Expression: errors / invocations\nThreshold: 0.05\nComparisonOperator: GreaterThanThreshold")
                == "Alarm: alarms on metric math (Metrics) are not supported; alarm on one AWS/Lambda metric (Errors, Throttles or Duration)")
        #expect(
            try refusal("Namespace: AWS/SQS\nMetricName: ApproximateAgeOfOldestMessage\nStatistic: Maximum\nThreshold: 60\nComparisonOperator: GreaterThanThreshold")
                == "Alarm: Namespace AWS/SQS is not supported: Aviary judges its functions' own AWS/Lambda metrics (Errors, Throttles, Duration)")
        #expect(
            try refusal("Namespace: AWS/Lambda\nMetricName: Duration\nStatistic: Average\nThreshold: 500\nComparisonOperator: GreaterThanThreshold")
                == "Alarm: Duration with Statistic Average is not supported; use a percentile (ExtendedStatistic: p99)")
        #expect(
            try refusal("Namespace: AWS/Lambda\nMetricName: Errors\nStatistic: Average\nThreshold: 1\nComparisonOperator: GreaterThanThreshold")
                == "Alarm: Errors with Statistic Average is not supported; use Statistic: Sum, a count per period")
        #expect(
            try refusal("Namespace: AWS/Lambda\nMetricName: IteratorAge\nStatistic: Maximum\nThreshold: 1\nComparisonOperator: GreaterThanThreshold")
                == "Alarm: MetricName IteratorAge is not supported; Aviary judges Errors, Throttles and Duration percentiles")
        #expect(
            try refusal(Self.errors + "Threshold: 1\nComparisonOperator: LessThanThreshold")
                == "Alarm: ComparisonOperator LessThanThreshold is not supported: a rule breaches at or above its threshold "
                + "(GreaterThanOrEqualToThreshold or GreaterThanThreshold)")
        #expect(
            try refusal(Self.errors + "Threshold: 1\nComparisonOperator: GreaterThanThreshold\nTreatMissingData: sometimes")
                == "Alarm: TreatMissingData 'sometimes' is not one of missing, breaching, notBreaching, ignore")
        #expect(
            try refusal(Self.errors + "Threshold: lots\nComparisonOperator: GreaterThanThreshold")
                == "Alarm: Threshold 'lots' is not a number")
        #expect(
            try refusal(Self.errors.replacingOccurrences(of: "EvaluationPeriods: 1", with: "EvaluationPeriods: 2\nDatapointsToAlarm: 3")
                + "Threshold: 1\nComparisonOperator: GreaterThanThreshold")
                == "Alarm: datapoints to alarm must be between 1 and the evaluation periods (2)")
    }
}
