import io.pipelinelib.Args

/**
 * publish-artifact for a service build job: writes output/SERVICE.env.groovy and
 * output/SERVICE.manifest.json, registers the build in the store, loads the env file (so
 * env.SERVICE1_BUILD etc. are set for later stages) and archives both files.
 *
 *   pipelinelibPublish(service: 'service1', image: "${registry}/service1:${env.BUILD_NUMBER}", digest: digest)
 *
 * Options: service (required), image, digest, build, job, commit, message, outputDir ('output'),
 * register (true), archive (true), legacyKey (a key or a list of keys: during a migration the
 * variables are also written as env.KEY_BUILD etc., e.g. legacyKey: 'SERVICE1' for service-1).
 */
def call(Map args = [:]) {
    String problem = Args.problemWithService(args.service)
    if (problem == null && args.build != null) {
        problem = Args.problemWithBuildNumber(args.build)
    }
    if (problem == null && args.job != null) {
        problem = Args.problemWithJob(args.job)
    }
    String outputDir = args.outputDir ?: 'output'
    if (problem == null) {
        problem = Args.problemWithPattern(outputDir, Args.RELATIVE_DIR_PATTERN, 'output directory')
    }
    List legacyKeys = args.legacyKey == null ? [] : (args.legacyKey instanceof List ? args.legacyKey : [args.legacyKey])
    legacyKeys.each { key ->
        problem = problem ?: Args.problemWithPattern(key, Args.LEGACY_KEY_PATTERN, 'legacy key')
    }
    if (problem != null) {
        error("pipelinelibPublish: ${problem}")
    }
    List<String> argv = ['publish-artifact', "--service=${args.service}"]
    ['image', 'digest', 'build', 'job', 'commit', 'message'].each { key ->
        if (args[key] != null) {
            argv << "--${key}=${args[key]}".toString()
        }
    }
    argv << "--output-dir=${outputDir}".toString()
    legacyKeys.each { key -> argv << "--legacy-key=${key}".toString() }
    if (args.register == false) {
        argv << '--no-register'
    }
    pipelinelibCli(argv)
    load("${outputDir}/${args.service}.env.groovy")
    if (args.archive != false) {
        archiveArtifacts(artifacts: "${outputDir}/${args.service}.env.groovy,${outputDir}/${args.service}.manifest.json", fingerprint: true)
    }
}
