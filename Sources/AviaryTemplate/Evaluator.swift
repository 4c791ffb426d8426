import AviaryCore

/// Evaluates a template's values the way CloudFormation would when creating the stack: parameters,
/// pseudo parameters, conditions, mappings, and references between resources.
///
/// Evaluation is lazy — only the properties Aviary reads are evaluated — so that an `Events` section
/// full of references to APIs Aviary does not deploy costs nothing and cannot fail the template.
/// Conditions and function names are computed on first use and remembered; a cycle is an error.
struct Evaluator {
    struct Resource: Sendable {
        let logicalID: String
        let type: String
        /// For functions, already merged with `Globals.Function`.
        let properties: TemplateNode
        let condition: String?
    }

    static let functionType = "AWS::Serverless::Function"
    static let alarmType = "AWS::CloudWatch::Alarm"

    let region: String
    let account: String
    let stackName: String
    let partition: String
    let parameters: [String: TemplateParameters.Resolved]
    let conditions: [String: TemplateNode]
    let mappings: [String: TemplateNode]
    /// In the template's order.
    let resources: [Resource]
    let resourcesByID: [String: Resource]
    private(set) var warnings: [String] = []
    /// Property → logical ids of the functions that set it, for properties Aviary does not act on.
    var ignoredProperties: [String: [String]] = [:]
    /// Alarms turned into health rules: they are read, so not reported as undeployed.
    var usedAlarms: Set<String> = []
    private var conditionValues: [String: Bool] = [:]
    private var conditionsInProgress: [String] = []
    private var functionNames: [String: FunctionName] = [:]
    private var namesInProgress: [String] = []

    init(
        template: TemplateNode, overrides: [String: String], region: String, account: String, stackName: String
    ) throws(TemplateError) {
        guard template.members != nil else { throw TemplateError("a template is a mapping with a Resources section") }
        self.region = region
        self.account = account
        self.stackName = stackName
        partition =
            region.hasPrefix("cn-") ? "aws-cn" : region.hasPrefix("us-gov-") ? "aws-us-gov" : "aws"
        parameters = try TemplateParameters.resolve(template["Parameters"], overrides: overrides)
        conditions = try Self.section("Conditions", of: template)
        mappings = try Self.section("Mappings", of: template)
        let globals = template["Globals"]?["Function"]
        var resources: [Resource] = []
        for member in try Self.sectionMembers("Resources", of: template) {
            let location = Location(member.key)
            guard member.value.members != nil else { throw .at(location, "a resource is a mapping with a Type") }
            guard let type = member.value["Type"]?.text else { throw .at(location, "Type is missing") }
            var properties = member.value["Properties"] ?? .map([])
            if case .null = properties { properties = .map([]) }
            guard properties.members != nil else { throw .at(location, "Properties must be a mapping") }
            if type == Self.functionType, let globals {
                properties = Self.merge(globals, under: properties)
            }
            let condition: String?
            switch member.value["Condition"] {
            case nil: condition = nil
            case .scalar(let name)?: condition = name
            default: throw .at(location, "Condition must be the name of a condition")
            }
            resources.append(Resource(logicalID: member.key, type: type, properties: properties, condition: condition))
        }
        self.resources = resources
        resourcesByID = Dictionary(resources.map { ($0.logicalID, $0) }, uniquingKeysWith: { first, _ in first })
    }

    private static func sectionMembers(_ name: String, of template: TemplateNode) throws(TemplateError) -> [TemplateNode.Member] {
        switch template[name] {
        case nil, .null?: return []
        case .map(let members)?: return members
        default: throw TemplateError("\(name) must be a mapping")
        }
    }

    private static func section(_ name: String, of template: TemplateNode) throws(TemplateError) -> [String: TemplateNode] {
        Dictionary(try sectionMembers(name, of: template).map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    /// SAM's rule for `Globals`: a mapping is merged key by key (recursively, so
    /// `Environment.Variables` combine), anything else the function sets replaces the global value.
    /// Lists are replaced too rather than concatenated: for the properties Aviary reads (`Architectures`)
    /// two lists could only make an invalid one.
    static func merge(_ global: TemplateNode, under own: TemplateNode) -> TemplateNode {
        guard case .map(let globalMembers) = global, case .map(let ownMembers) = own else { return own }
        var merged: [TemplateNode.Member] = []
        for member in globalMembers {
            let value = own[member.key].map { merge(member.value, under: $0) } ?? member.value
            merged.append(TemplateNode.Member(key: member.key, value: value))
        }
        merged += ownMembers.filter { global[$0.key] == nil }
        return .map(merged)
    }

    mutating func warn(_ warning: String) {
        if !warnings.contains(warning) { warnings.append(warning) }
    }

    // MARK: - Conditions

    /// Whether a resource is created: it has no `Condition`, or its condition holds.
    mutating func isDeployed(_ resource: Resource) throws(TemplateError) -> Bool {
        guard let name = resource.condition else { return true }
        return try condition(name, at: Location(resource.logicalID, "Condition"))
    }

    mutating func condition(_ name: String, at location: Location) throws(TemplateError) -> Bool {
        if let value = conditionValues[name] { return value }
        guard let node = conditions[name] else {
            throw .at(location, "no condition named \(name) in the Conditions section")
        }
        guard !conditionsInProgress.contains(name) else {
            throw TemplateError("Conditions.\(name): refers to itself (\((conditionsInProgress + [name]).joined(separator: " → ")))")
        }
        conditionsInProgress.append(name)
        defer { conditionsInProgress.removeLast() }
        let value = try conditionValue(node, at: Location("Conditions.\(name)"))
        conditionValues[name] = value
        return value
    }

    /// `Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or` and references to other conditions.
    mutating func conditionValue(_ node: TemplateNode, at location: Location) throws(TemplateError) -> Bool {
        if let name = node["Condition"]?.text, node.members?.count == 1 {
            return try condition(name, at: location)
        }
        guard case .intrinsic(let function) = node else {
            throw .at(location, "a condition is Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition")
        }
        let inner = location.key(function.spelling)
        switch function.name {
        case "Condition":
            guard let name = function.argument.text else { throw .at(inner, "takes the name of a condition") }
            return try condition(name, at: location)
        case "Fn::Equals":
            guard case .list(let operands) = function.argument, operands.count == 2 else {
                throw .at(inner, "takes a list of two values")
            }
            let left = try evaluate(operands[0], at: inner.index(0))
            let right = try evaluate(operands[1], at: inner.index(1))
            return left.rendered == right.rendered
        case "Fn::Not":
            guard case .list(let operands) = function.argument, operands.count == 1 else {
                throw .at(inner, "takes a list of one condition")
            }
            return try !conditionValue(operands[0], at: inner.index(0))
        case "Fn::And", "Fn::Or":
            guard case .list(let operands) = function.argument, (2...10).contains(operands.count) else {
                throw .at(inner, "takes a list of 2 to 10 conditions")
            }
            var values: [Bool] = []
            for (index, operand) in operands.enumerated() {
                values.append(try conditionValue(operand, at: inner.index(index)))
            }
            return function.name == "Fn::And" ? !values.contains(false) : values.contains(true)
        default:
            throw .at(location, "\(function.spelling) is not a condition function (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition)")
        }
    }

    // MARK: - Functions

    /// The deployed name of a function resource: its `FunctionName`, or its logical id.
    mutating func functionName(_ logicalID: String) throws(TemplateError) -> FunctionName {
        if let name = functionNames[logicalID] { return name }
        guard !namesInProgress.contains(logicalID) else {
            throw TemplateError("\(logicalID): FunctionName depends on itself (\((namesInProgress + [logicalID]).joined(separator: " → ")))")
        }
        namesInProgress.append(logicalID)
        defer { namesInProgress.removeLast() }
        let properties = resourcesByID[logicalID]?.properties ?? .map([])
        let location = Location(logicalID, "FunctionName")
        let given = try string(properties["FunctionName"], at: location)
        let name: FunctionName
        do {
            name = try FunctionName(validating: given ?? logicalID)
        } catch {
            throw given == nil
                ? TemplateError("\(logicalID): the logical id is the function name unless FunctionName is set, and "
                    + "'\(logicalID)' is not a valid one (1–64 letters, digits, '-' or '_'); set FunctionName")
                : .at(Location(logicalID), "FunctionName '\(given ?? "")' is not a valid function name (1–64 letters, digits, '-' or '_')")
        }
        functionNames[logicalID] = name
        return name
    }

    func arn(of name: FunctionName) -> String {
        "arn:\(partition):lambda:\(region):\(account):function:\(name)"
    }
}
