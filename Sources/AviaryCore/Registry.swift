/// Every function this server knows, as one value: the in-memory snapshot reads are served from.
public struct Registry: Sendable, Hashable {
    public var functions: [FunctionName: LambdaFunction]

    public init(functions: [FunctionName: LambdaFunction] = [:]) {
        self.functions = functions
    }

    public init(_ list: [LambdaFunction]) {
        self.functions = Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
    }

    /// The function or AWS's 404 for it.
    public func function(_ name: FunctionName, scope: AccountScope) throws(LambdaError) -> LambdaFunction {
        guard let function = functions[name] else { throw .functionNotFound(scope.functionARN(name)) }
        return function
    }

    /// One entry of ListFunctions: a function's `$LATEST` or one of its versions.
    public struct Listing: Sendable, Hashable {
        public let name: FunctionName
        public let version: VersionSelector
        public let configuration: FunctionConfiguration
    }

    /// ListFunctions: `$LATEST` of every function by name, or with `allVersions` every version as well.
    public func listFunctions(allVersions: Bool, marker: String?, maxItems: Int?) throws(LambdaError)
        -> Page<Listing>
    {
        var entries: [Listing] = []
        for function in functions.values.sorted(by: { $0.name < $1.name }) {
            entries.append(Listing(name: function.name, version: .latest, configuration: function.latest))
            if allVersions {
                for version in function.sortedVersions {
                    entries.append(
                        Listing(name: function.name, version: .published(version.number),
                            configuration: version.configuration))
                }
            }
        }
        return try Page.slice(entries, key: { "\($0.name)\u{1}\($0.version.listingKey)" }, marker: marker, maxItems: maxItems)
    }

    /// The account's concurrency limit, as AWS's default.
    public static let accountConcurrency = 1000
    /// What AWS keeps unreserved for functions without a reservation.
    public static let minimumUnreserved = 100

    /// Concurrency not reserved by any function.
    public var unreservedConcurrency: Int {
        Self.accountConcurrency - functions.values.compactMap(\.reservedConcurrency).reduce(0, +)
    }

    /// Checks a PutFunctionConcurrency request against the account's limits.
    public func validateReservation(_ value: Int, for name: FunctionName) throws(LambdaError) {
        guard value >= 0 else { throw .tooSmall(value: value, field: "reservedConcurrentExecutions", min: 0) }
        let othersReserved = functions.values.filter { $0.name != name }.compactMap(\.reservedConcurrency).reduce(0, +)
        guard Self.accountConcurrency - othersReserved - value >= Self.minimumUnreserved else {
            throw .invalidParameterValue(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                    + "UnreservedConcurrentExecution below its minimum value of [\(Self.minimumUnreserved)].")
        }
    }

    /// Total size of all stored archives and the function count, for GetAccountSettings.
    public var usage: (totalCodeSize: Int, functionCount: Int) {
        var codes: [String: Int] = [:]
        for function in functions.values {
            codes[function.latest.code.sha256] = function.latest.code.size
            for version in function.versions.values { codes[version.configuration.code.sha256] = version.configuration.code.size }
        }
        return (codes.values.reduce(0, +), functions.count)
    }
}
