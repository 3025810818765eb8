import io.pipelinelib.Args

/**
 * import-artifacts: the Copy Artifact equivalent through the manifest service. Writes
 * import/SERVICE.env.groovy for every imported service plus import/manifest.json, then loads
 * every env file so env.SERVICE1_BUILD, env.SERVICE1_IMAGE, ... are set, and archives them.
 *
 *   pipelinelibImport(from: ['service1-build', 'service2-build'])          // newest successful of each
 *   pipelinelibImport(upstream: 'deploy-test', build: params.BUILD_TO_DEPLOY,
 *                     overrides: params.BUILD_OVERRIDES)                    // a promotion
 *
 * Options: from (job or list of jobs) or upstream (one job), build (lastSuccessful, N or a choice
 * string), overrides ('service1=91 service2=45', a list of 'S=N' or a map), target ('import'),
 * archive (true). Returns the imported services as [service:, build:, image:, message:] maps.
 */
def call(Map args = [:]) {
    List<String> jobs = Args.jobs(args.from)
    if (args.upstream != null) {
        jobs << args.upstream.toString()
    }
    String target = args.target ?: 'import'
    String problem = jobs.isEmpty() ? 'give the upstream job(s) with from: or upstream:' : null
    for (String job : jobs) {
        problem = problem ?: Args.problemWithJob(job)
    }
    if (problem == null && args.build != null) {
        problem = Args.problemWithSelector(args.build)
    }
    problem = problem ?: Args.problemWithPattern(target, Args.RELATIVE_DIR_PATTERN, 'target directory')
    List<String> overrides = []
    if (problem == null) {
        try {
            overrides = Args.overrides(args.overrides)
        } catch (IllegalArgumentException e) {
            problem = e.message
        }
    }
    if (problem != null) {
        error("pipelinelibImport: ${problem}")
    }

    List<String> argv = ['import-artifacts']
    jobs.each { argv << "--from=${it}".toString() }
    if (args.build != null) {
        argv << "--build=${args.build}".toString()
    }
    argv << "--target=${target}".toString()
    overrides.each { argv << "--override=${it}".toString() }

    // Only what this import writes may be loaded: clear what an earlier build left behind.
    dir(target) {
        deleteDir()
    }
    pipelinelibCli(argv)

    List<Map> services = []
    def files = findFiles(glob: "${target}/*.env.groovy")
    if (!files) {
        error("pipelinelibImport: import-artifacts wrote no ${target}/*.env.groovy file")
    }
    for (def file : files) {
        load(file.path.toString())
        String service = file.name.toString() - '.env.groovy'
        String key = service.toUpperCase().replace('-', '_')
        services << [service: service, build: env."${key}_BUILD", image: env."${key}_IMAGE",
                     message: env."${key}_COMMIT_MSG"]
    }
    if (args.archive != false) {
        archiveArtifacts(artifacts: "${target}/*.env.groovy,${target}/manifest.json", allowEmptyArchive: true)
    }
    return services
}
