import AviaryCore

extension Evaluator {
    mutating func deploymentPreference(
        _ node: TemplateNode?, alias: AliasName?, of id: String, for target: Target
    ) throws(TemplateError) -> DeploymentPreferenceSpec? {
        let location = Location(id, "DeploymentPreference")
        let preference: TemplateNode
        switch node {
        case nil, .null?: return nil
        case .map(let members)?: preference = .map(members)
        case .intrinsic?:
            throw .at(location, "must be written as a mapping (Type, Alarms, Hooks, Enabled); intrinsic functions go inside it")
        default:
            throw .at(location, "must be a mapping with Type, and optionally Alarms, Hooks and Enabled")
        }
        for key in preference.members?.map(\.key) ?? [] where !["Type", "Alarms", "Hooks", "Enabled"].contains(key) {
            ignoredProperties["DeploymentPreference.\(key)", default: []].append(id)
        }
        let enabled: Bool
        switch try string(preference["Enabled"], at: location.key("Enabled"))?.lowercased() {
        case nil, "true": enabled = true
        case "false": enabled = false
        case let other?: throw .at(location.key("Enabled"), "must be true or false, not '\(other)'")
        }
        guard alias != nil else {
            // SAM's rule: a disabled preference (as hook functions carry) needs no alias, and then says nothing.
            if !enabled { return nil }
            throw .at(Location(id), "DeploymentPreference needs AutoPublishAlias: the alias is what traffic shifts on")
        }
        let strategy: Strategy
        switch try string(preference["Type"], at: location.key("Type")) {
        case let type?:
            do { strategy = try Strategy.parse(type) } catch { throw .at(location.key("Type"), error.message) }
        case nil where enabled:
            throw .at(location, "Type is missing (such as Canary10Percent5Minutes, Linear10PercentEvery1Minute or AllAtOnce)")
        case nil:
            strategy = .allAtOnce
        }
        let own = try functionName(id)
        var hooks: [FunctionName?] = []
        for kind in ["PreTraffic", "PostTraffic"] {
            let hookLocation = location.key("Hooks").key(kind)
            guard let name = try string(preference["Hooks"]?[kind], at: hookLocation) else {
                hooks.append(nil)
                continue
            }
            // A hook is usually `!Ref Hook` (its name); `!GetAtt Hook.Arn` names the same function.
            guard let hook = target.functions.keys.first(where: { $0.rawValue == name || arn(of: $0) == name }) else {
                throw .at(hookLocation, "'\(name)' is not a function of this template; a hook is !Ref to another AWS::Serverless::Function here")
            }
            guard hook != own else { throw .at(hookLocation, "a function cannot be its own hook") }
            hooks.append(hook)
        }
        for key in preference["Hooks"]?.members?.map(\.key) ?? [] where !["PreTraffic", "PostTraffic"].contains(key) {
            ignoredProperties["DeploymentPreference.Hooks.\(key)", default: []].append(id)
        }
        return DeploymentPreferenceSpec(
            strategy: strategy, rules: try alarmRules(preference["Alarms"], at: location.key("Alarms")),
            preTrafficHook: hooks[0], postTrafficHook: hooks[1], enabled: enabled)
    }

    /// `Alarms` is read without evaluating its items: each must name an alarm resource of the template,
    /// whose definition becomes a rule. `Fn::If` and `AWS::NoValue` choose among them.
    private mutating func alarmRules(_ node: TemplateNode?, at location: Location) throws(TemplateError) -> [HealthRule] {
        switch node {
        case nil, .null?:
            return []
        case .list(let items)?:
            var rules: [HealthRule] = []
            for (index, item) in items.enumerated() {
                rules += try alarmRules(item: item, at: location.index(index))
            }
            return rules
        case .intrinsic(let function)? where function.name == "Fn::If":
            return try alarmRules(chosenBranch(function, at: location), at: location)
        default:
            throw .at(location, "must be a list of !Ref to AWS::CloudWatch::Alarm resources of this template")
        }
    }

    private mutating func alarmRules(item: TemplateNode, at location: Location) throws(TemplateError) -> [HealthRule] {
        if case .intrinsic(let function) = item {
            if function.name == "Fn::If" {
                return try alarmRules(item: chosenBranch(function, at: location), at: location)
            }
            if function.name == "Ref", let name = function.argument.text {
                if name == "AWS::NoValue" { return [] }
                if let resource = resourcesByID[name] {
                    guard resource.type == Self.alarmType else {
                        throw .at(location, "\(name) is \(resource.type), not an AWS::CloudWatch::Alarm")
                    }
                    guard try isDeployed(resource) else {
                        throw .at(location, "alarm \(name) is not created, because its condition \(resource.condition ?? "") is false")
                    }
                    usedAlarms.insert(name)
                    return [try rule(fromAlarm: resource)]
                }
            }
        }
        if case .null = item { return [] }
        let value = try evaluate(item, at: location)
        throw .at(location, "\(value.rendered) is not an alarm of this template; Aviary cannot read CloudWatch, so each alarm must be !Ref to an AWS::CloudWatch::Alarm resource here")
    }

    private mutating func chosenBranch(_ function: TemplateNode.Intrinsic, at location: Location) throws(TemplateError) -> TemplateNode {
        guard case .list(let parts) = function.argument, parts.count == 3, let name = parts[0].text else {
            throw .at(location, "\(function.spelling) takes [condition, value if true, value if false]")
        }
        return try condition(name, at: location) ? parts[1] : parts[2]
    }

    /// A CloudWatch alarm on one of the function's own AWS/Lambda metrics, as the equivalent rule.
    ///
    /// Rules breach at or above their threshold, so `GreaterThanThreshold` on a count (Errors,
    /// Throttles) becomes `>= floor(threshold) + 1`, which is exact for whole counts; on a duration it
    /// keeps the threshold, since a percentile landing exactly on it is the only difference.
    private mutating func rule(fromAlarm alarm: Resource) throws(TemplateError) -> HealthRule {
        let location = Location(alarm.logicalID)
        let properties = alarm.properties
        guard properties["Metrics"] == nil else {
            throw .at(location, "alarms on metric math (Metrics) are not supported; alarm on one AWS/Lambda metric (Errors, Throttles or Duration)")
        }
        let namespace = try string(properties["Namespace"], at: location.key("Namespace"))
        guard namespace == "AWS/Lambda" else {
            throw .at(location, "Namespace \(namespace ?? "(none)") is not supported: Aviary judges its functions' own AWS/Lambda metrics (Errors, Throttles, Duration)")
        }
        let metricName = try string(properties["MetricName"], at: location.key("MetricName"))
        let statistic = try string(properties["Statistic"], at: location.key("Statistic"))
        let extended = try string(properties["ExtendedStatistic"], at: location.key("ExtendedStatistic"))
        let statisticText = statistic.map { "Statistic \($0)" } ?? extended.map { "ExtendedStatistic \($0)" } ?? "no statistic"
        let metric: HealthRule.Metric
        switch metricName {
        case "Errors", "Throttles":
            guard statistic == "Sum" else {
                throw .at(location, "\(metricName ?? "") with \(statisticText) is not supported; use Statistic: Sum, a count per period")
            }
            metric = metricName == "Errors" ? .errors : .throttles
        case "Duration":
            guard let extended, let percentile = HealthRule.Metric(extended), case .durationPercentile = percentile else {
                throw .at(location, "Duration with \(statisticText) is not supported; use a percentile (ExtendedStatistic: p99)")
            }
            metric = percentile
        default:
            throw .at(location, "MetricName \(metricName ?? "(none)") is not supported; Aviary judges Errors, Throttles and Duration percentiles")
        }
        guard let thresholdText = try string(properties["Threshold"], at: location.key("Threshold")) else {
            throw .at(location, "Threshold is missing")
        }
        guard var threshold = Double(thresholdText), threshold.isFinite else {
            throw .at(location, "Threshold '\(thresholdText)' is not a number")
        }
        switch try string(properties["ComparisonOperator"], at: location.key("ComparisonOperator")) {
        case "GreaterThanOrEqualToThreshold":
            break
        case "GreaterThanThreshold":
            if metric == .errors || metric == .throttles { threshold = threshold.rounded(.down) + 1 }
        case let other:
            throw .at(location, "ComparisonOperator \(other ?? "(none)") is not supported: a rule breaches at or above its threshold (GreaterThanOrEqualToThreshold or GreaterThanThreshold)")
        }
        let period = try integer(properties["Period"], at: location, name: "Period", unit: "seconds", in: 1...86_400) ?? 60
        let evaluationPeriods = try integer(properties["EvaluationPeriods"], at: location, name: "EvaluationPeriods", unit: "periods", in: 1...1440) ?? 1
        let datapoints = try integer(properties["DatapointsToAlarm"], at: location, name: "DatapointsToAlarm", unit: "periods", in: 1...1440)
        var missingData = HealthRule.MissingData.missing
        if let treatment = try string(properties["TreatMissingData"], at: location.key("TreatMissingData")) {
            guard let parsed = HealthRule.MissingData(rawValue: treatment) else {
                let accepted = HealthRule.MissingData.allCases.map(\.rawValue).joined(separator: ", ")
                throw .at(location, "TreatMissingData '\(treatment)' is not one of \(accepted)")
            }
            missingData = parsed
        }
        do {
            return try HealthRule(
                metric: metric, threshold: threshold, periodMilliseconds: Int64(period) * 1000,
                evaluationPeriods: evaluationPeriods, datapointsToAlarm: datapoints, missingData: missingData)
        } catch {
            throw .at(location, error.message)
        }
    }
}
