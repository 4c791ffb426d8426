extension LambdaFunction {
    /// Publishes `$LATEST` as the next version (PublishVersion).
    ///
    /// Publishing with no change to `$LATEST` since the newest version was cut returns that version and
    /// creates nothing, as AWS does. Numbers come from `lastVersionNumber`, so a deleted number is never reused.
    public mutating func publishVersion(
        expectedCodeSha256: String? = nil, description: String? = nil, expectedRevisionId: String? = nil,
        context: ChangeContext
    ) throws(LambdaError) -> PublishedVersion {
        if let description, description.count > 256 {
            throw .tooLong(value: description, field: "description", max: 256)
        }
        if let expectedCodeSha256, expectedCodeSha256 != latest.code.sha256 {
            throw .invalidParameterValue(
                "CodeSHA256 (\(expectedCodeSha256)) is different from current CodeSHA256 in $LATEST "
                    + "(\(latest.code.sha256)). Please try again with the CodeSHA256 in $LATEST.")
        }
        try checkRevision(expectedRevisionId)
        if let newest = versions.values.max(by: { $0.number < $1.number }),
            newest.sourceRevisionId == latest.revisionId
        {
            return newest
        }
        var configuration = latest
        if let description { configuration.description = description }
        configuration.lastModified = context.now
        configuration.revisionId = context.newRevisionId()
        lastVersionNumber += 1
        let version = PublishedVersion(
            number: VersionNumber(lastVersionNumber), configuration: configuration,
            sourceRevisionId: latest.revisionId)
        versions[version.number] = version
        return version
    }

    /// Deletes one version (DeleteFunction with a numeric Qualifier); missing versions are ignored.
    ///
    /// Refused while an alias points at it, as primary or as additional version.
    public mutating func deleteVersion(_ number: VersionNumber) throws(LambdaError) {
        guard versions[number] != nil else { return }
        let referencing = aliases.values.filter { $0.references(number) }.map(\.name.rawValue).sorted()
        guard referencing.isEmpty else {
            throw .resourceConflict(
                "Unable to delete version because the following aliases reference it: "
                    + "[\(referencing.joined(separator: ", "))]")
        }
        versions[number] = nil
        eventInvokeConfigs[.version(.published(number))] = nil
    }
}
