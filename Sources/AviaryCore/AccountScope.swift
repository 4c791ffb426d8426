/// The region and account this server presents itself as; every ARN it prints is built here.
public struct AccountScope: Sendable, Hashable {
    public let partition: String
    public let region: String
    public let accountID: String

    public init(region: String = "us-east-1", accountID: String = "123456789012", partition: String = "aws") {
        self.partition = partition
        self.region = region
        self.accountID = accountID
    }

    /// `arn:aws:lambda:<region>:<account>:function:<name>`
    public func functionARN(_ name: FunctionName) -> String {
        "arn:\(partition):lambda:\(region):\(accountID):function:\(name.rawValue)"
    }

    /// `arn:aws:lambda:<region>:<account>:function:<name>:<qualifier>`
    public func functionARN(_ name: FunctionName, qualifier: some CustomStringConvertible) -> String {
        "\(functionARN(name)):\(qualifier)"
    }

    /// The log group AWS gives a function.
    public func logGroup(_ name: FunctionName) -> String { "/aws/lambda/\(name.rawValue)" }
}
