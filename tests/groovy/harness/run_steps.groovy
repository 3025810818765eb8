// Runs the shared library's global steps (groovy/vars/*.groovy, with groovy/src on the class path)
// under real Groovy 2.4.21 with the Jenkins steps they use bound to recording stand-ins.
//
// `sh` really runs: the script text is written to a file and run by the scenario's shell with
// `-xe` (as Jenkins' sh step does) in the scenario's workspace, with Jenkins' environment (env.*)
// and the withEnv overrides in effect, and tests/fakes/bin first on PATH so `pipelinelib` is the
// fake that dumps its argv. `load` evaluates the file with the pipeline's binding, as Jenkins does.
//
// Each stand-in offers only what the real step or object offers, with its parameter names (an
// unknown parameter fails as Jenkins' DSL does: "Invalid parameter ..."):
//   sh              workflow-durable-task-step (ShellStep): script, returnStdout, returnStatus, encoding, label
//   writeFile       workflow-basic-steps (WriteFileStep): file, text, encoding
//   readFile        workflow-basic-steps (ReadFileStep): file, encoding
//   fileExists      workflow-basic-steps (FileExistsStep): file
//   dir, deleteDir, error, echo, withEnv: workflow-basic-steps (PushdStep, DeleteDirStep,
//                   ErrorStep(message), EchoStep(message), EnvStep(overrides))
//   load            workflow-cps (LoadStep): path; evaluates with the pipeline's binding
//   findFiles       pipeline-utility-steps (FindFilesStep: glob, excludes) returning
//                   FileWrapper[] (name, path, directory, length, lastModified; toString = path)
//   archiveArtifacts core ArtifactArchiver: artifacts, excludes, allowEmptyArchive,
//                   onlyIfSuccessful, fingerprint, defaultExcludes, caseSensitive, followSymlinks
//   readJSON        pipeline-utility-steps (ReadJSONStep): file, text, returnPojo
//   slackSend       slack (SlackSendStep): message, color, channel, failOnError, ... (subset)
//   currentBuild    workflow-support RunWrapper: displayName, description, result (settable),
//                   currentResult, number, startTimeInMillis (read-only)
//   env             workflow-cps EnvActionImpl: values are stored as Strings, null removes
//   params          workflow-cps ParamsVariable: an unmodifiable Map
//
// Usage: groovy run_steps.groovy SCENARIOS.json RESULTS.json
// A scenario: {name, workspace, shell, log, files?, stdout?, exit?, env?, params?, displayName?,
//              and either step + args (a JSON list of call arguments) or code (Groovy source)}.
import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import java.nio.file.FileSystems
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths

class StepError extends RuntimeException {
    StepError(String message) { super(message) }
}

/** pipeline-utility-steps FileWrapper: what findFiles returns (name, path, directory, length, lastModified). */
class FileWrapper implements Serializable {
    final String name
    final String path
    final boolean directory
    final long length
    final long lastModified

    FileWrapper(String name, String path, boolean directory, long length, long lastModified) {
        this.name = name
        this.path = path
        this.directory = directory
        this.length = length
        this.lastModified = lastModified
    }

    String toString() { path }
}

/** workflow-support RunWrapper, as `currentBuild`: only these properties exist. */
class RunWrapper {
    String displayName
    String description
    private String result = null
    final int number = 7
    /** RunWrapper.getStartTimeInMillis (workflow-support 2.x RunWrapper.java): Run's start. */
    final long startTimeInMillis = 1793491200000L  // 2026-11-01T00:00:00Z

    String getResult() { result }

    /** Real: a result can only get worse (Run.setResult keeps the worse of the two). */
    void setResult(String value) {
        List order = ['SUCCESS', 'UNSTABLE', 'FAILURE', 'NOT_BUILT', 'ABORTED']
        if (result == null || order.indexOf(value) > order.indexOf(result)) {
            result = value
        }
    }

    String getCurrentResult() { result ?: 'SUCCESS' }
}

/** workflow-cps EnvActionImpl, as `env`: values become Strings; null removes the variable. */
class EnvAction {
    final Map<String, String> values = new LinkedHashMap()

    Object getProperty(String name) {
        return name == 'values' ? values : values[name]
    }

    void setProperty(String name, Object value) {
        if (value == null) {
            values.remove(name)
        } else {
            values[name] = value.toString()
        }
    }
}

/** Fails like the Pipeline DSL when a step gets a parameter its descriptor does not know. */
void checkParameters(String step, Map given, List<String> known) {
    List<String> unknown = given.keySet().collect { it as String }.findAll { !(it in known) }
    if (unknown) {
        throw new IllegalArgumentException("WorkflowScript: Invalid parameter \"${unknown[0]}\", did you mean one of ${known}? (step ${step})")
    }
}

def input = new JsonSlurper().parse(new File(args[0]), 'UTF-8')
File library = new File(input.library as String)
String fakeBin = input.fakeBin as String
List results = []

// The library's classes are compiled once; every scenario gets fresh step instances and binding.
GroovyClassLoader loader = new GroovyClassLoader(this.class.classLoader)
loader.addClasspath(new File(library, 'src').path)
Map<String, Class> stepClasses = new TreeMap()
(new File(library, 'vars').listFiles() as List).findAll { it.name.endsWith('.groovy') }.each { File f ->
    stepClasses[f.name - '.groovy'] = loader.parseClass(f)
}
// Scenario code and loaded files are compiled once per distinct text (compiling dominates a batch).
Map<String, Class> compiled = new HashMap()
int counter = 0
Closure scriptOf = { String text, Binding b ->
    Class cls = compiled[text]
    if (cls == null) {
        cls = loader.parseClass(text, 'Script' + (counter++) + '.groovy')
        compiled[text] = cls
    }
    Script script = (Script) cls.newInstance()
    script.setBinding(b)
    return script
}

for (Map scenario : input.scenarios) {
    List calls = []
    EnvAction envAction = new EnvAction()
    (scenario.env ?: [:]).each { k, v -> envAction.setProperty(k as String, v) }
    Map env = envAction.values
    Map params = Collections.unmodifiableMap(new LinkedHashMap(scenario.params ?: [:]))
    RunWrapper currentBuild = new RunWrapper(displayName: scenario.displayName)
    Path workspace = Paths.get(scenario.workspace as String)
    List<Path> cwd = [workspace]
    List<Map> envStack = []
    Binding binding = new Binding()
    binding.setVariable('env', envAction)
    binding.setVariable('params', params)
    binding.setVariable('currentBuild', currentBuild)

    Closure here = { -> cwd[-1] }
    Closure resolve = { String p -> here().resolve(p).normalize() }

    binding.setVariable('error', { String message ->
        calls << [step: 'error', message: message]
        throw new StepError(message)
    })
    binding.setVariable('echo', { String message -> calls << [step: 'echo', message: message] })
    binding.setVariable('withEnv', { List entries, Closure body ->
        Map overrides = new LinkedHashMap()
        entries.each { String e ->
            int eq = e.indexOf('=')
            overrides[e.substring(0, eq)] = e.substring(eq + 1)
        }
        calls << [step: 'withEnv', overrides: overrides]
        envStack << overrides
        try {
            return body.call()
        } finally {
            envStack.remove(envStack.size() - 1)
        }
    })
    binding.setVariable('dir', { String path, Closure body ->
        calls << [step: 'dir', path: path]
        cwd << resolve(path)
        Files.createDirectories(cwd[-1])
        try {
            return body.call()
        } finally {
            cwd.remove(cwd.size() - 1)
        }
    })
    binding.setVariable('deleteDir', { ->
        calls << [step: 'deleteDir', path: workspace.relativize(here()).toString()]
        here().toFile().deleteDir()
    })
    binding.setVariable('fileExists', { String p -> resolve(p).toFile().exists() })
    binding.setVariable('readFile', { Object spec ->
        Map opts = spec instanceof Map ? spec : [file: spec]
        checkParameters('readFile', opts, ['file', 'encoding'])
        calls << [step: 'readFile', file: opts.file]
        return resolve(opts.file as String).toFile().getText('UTF-8')
    })
    binding.setVariable('sh', { Object spec ->
        Map opts = spec instanceof Map ? spec : [script: spec]
        checkParameters('sh', opts, ['script', 'returnStdout', 'returnStatus', 'encoding', 'label'])
        String script = opts.script as String
        // What Jenkins does: the node's environment, then env.*, then withEnv (an empty value unsets).
        Map<String, String> overrides = new LinkedHashMap()
        envStack.each { overrides.putAll(it) }
        File file = File.createTempFile('sh-step-', '.sh')
        file.setText(script, 'UTF-8')
        ProcessBuilder builder = new ProcessBuilder([scenario.shell as String, '-xe', file.path])
        builder.directory(here().toFile())
        Map<String, String> penv = builder.environment()
        penv.put('PATH', fakeBin + ':' + penv.get('PATH'))
        penv.put('FAKE_PIPELINELIB_LOG', scenario.log as String)
        if (scenario.files != null) { penv.put('FAKE_PIPELINELIB_FILES', scenario.files as String) }
        if (scenario.stdout != null) { penv.put('FAKE_PIPELINELIB_STDOUT', scenario.stdout as String) }
        if (scenario.exit != null) { penv.put('FAKE_PIPELINELIB_EXIT', scenario.exit as String) }
        env.each { k, v -> if (v != null) { penv.put(k as String, v as String) } }
        overrides.each { k, v ->
            if (v == null || v.isEmpty()) { penv.remove(k) } else { penv.put(k as String, v as String) }
        }
        Process process = builder.start()
        def out = new ByteArrayOutputStream()
        def err = new ByteArrayOutputStream()
        process.consumeProcessOutput(out, err)
        int code = process.waitFor()
        process.waitForProcessOutput()
        file.delete()
        String stdout = out.toString('UTF-8')
        calls << [step: 'sh', script: script, returnStdout: opts.returnStdout ? true : false,
                  overrides: overrides, cwd: workspace.relativize(here()).toString(), exitCode: code,
                  stderr: err.toString('UTF-8')]
        if (code != 0) {
            throw new StepError("script returned exit code ${code}")
        }
        return opts.returnStdout ? stdout : null
    })
    binding.setVariable('load', { String p ->
        calls << [step: 'load', path: p]
        return scriptOf(resolve(p).toFile().getText('UTF-8'), binding).run()
    })
    binding.setVariable('findFiles', { Map spec ->
        checkParameters('findFiles', spec, ['glob', 'excludes'])
        String glob = spec.glob as String
        calls << [step: 'findFiles', glob: glob]
        def matcher = FileSystems.getDefault().getPathMatcher('glob:' + glob)
        List found = []
        here().toFile().eachFileRecurse { File f ->
            Path rel = here().relativize(f.toPath())
            if (f.isFile() && matcher.matches(rel)) {
                found << new FileWrapper(f.name, rel.toString(), false, f.length(), f.lastModified())
            }
        }
        return found.sort { it.path } as FileWrapper[]
    })
    binding.setVariable('archiveArtifacts', { Map spec ->
        checkParameters('archiveArtifacts', spec, ['artifacts', 'excludes', 'allowEmptyArchive', 'onlyIfSuccessful',
                                                   'fingerprint', 'defaultExcludes', 'caseSensitive', 'followSymlinks'])
        calls << [step: 'archiveArtifacts'] + spec
    })
    binding.setVariable('slackSend', { Map spec ->
        checkParameters('slackSend', spec, ['message', 'color', 'channel', 'failOnError', 'botUser', 'tokenCredentialId',
                                            'teamDomain', 'notifyCommitters', 'iconEmoji', 'username', 'timestamp'])
        calls << [step: 'slackSend'] + spec
    })
    binding.setVariable('writeFile', { Map spec ->
        checkParameters('writeFile', spec, ['file', 'text', 'encoding'])
        calls << [step: 'writeFile', file: spec.file, text: spec.text]
        resolve(spec.file as String).toFile().setText(spec.text as String, 'UTF-8')
    })
    binding.setVariable('readJSON', { Map spec ->
        checkParameters('readJSON', spec, ['file', 'text', 'returnPojo'])
        calls << [step: 'readJSON', file: spec.file]
        return spec.file ? new JsonSlurper().parse(resolve(spec.file as String).toFile(), 'UTF-8')
                         : new JsonSlurper().parseText(spec.text as String)
    })

    // The library's global steps, each callable by name from Jenkinsfile code and from each other.
    stepClasses.each { String name, Class cls ->
        Script step = (Script) cls.newInstance()
        step.setBinding(binding)
        binding.setVariable(name, { Object[] a -> step.invokeMethod('call', a) })
    }

    String error = null
    def returned = null
    try {
        if (scenario.code != null) {
            returned = scriptOf(scenario.code as String, binding).run()
        } else {
            Closure step = binding.getVariable(scenario.step as String) as Closure
            returned = step.call((scenario.args ?: []) as Object[])
        }
    } catch (StepError e) {
        error = e.message
    } catch (Throwable t) {
        error = 'UNEXPECTED ' + t.toString()
    }
    results << [name: scenario.name, calls: calls, env: env, displayName: currentBuild.displayName,
                result: currentBuild.result,
                error: error, returned: returned]
}
new File(args[1]).setText(JsonOutput.toJson(results), 'UTF-8')
