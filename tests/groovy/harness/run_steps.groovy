// Runs the shared library's global steps (groovy/vars/*.groovy, with groovy/src on the class path)
// under real Groovy 2.4.21 with the Jenkins steps they use bound to recording stand-ins.
//
// `sh` really runs: the script text is written to a file and run by the scenario's shell with
// `-xe` (as Jenkins' sh step does) in the scenario's workspace, with Jenkins' environment (env.*)
// and the withEnv overrides in effect, and tests/fakes/bin first on PATH so `pipelinelib` is the
// fake that dumps its argv. `load` evaluates the file with the pipeline's binding, as Jenkins does.
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
    Map env = new LinkedHashMap()
    (scenario.env ?: [:]).each { k, v -> env[k as String] = v as String }
    Map params = new LinkedHashMap(scenario.params ?: [:])
    Map currentBuild = [displayName: scenario.displayName, result: null, currentResult: 'SUCCESS', number: 7]
    Path workspace = Paths.get(scenario.workspace as String)
    List<Path> cwd = [workspace]
    List<Map> envStack = []
    Binding binding = new Binding()
    binding.setVariable('env', env)
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
    binding.setVariable('sh', { Object spec ->
        Map opts = spec instanceof Map ? spec : [script: spec]
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
        String glob = spec.glob as String
        calls << [step: 'findFiles', glob: glob]
        def matcher = FileSystems.getDefault().getPathMatcher('glob:' + glob)
        List found = []
        here().toFile().eachFileRecurse { File f ->
            Path rel = here().relativize(f.toPath())
            if (f.isFile() && matcher.matches(rel)) {
                found << [name: f.name, path: rel.toString(), directory: false, length: f.length()]
            }
        }
        return found.sort { it.path }
    })
    binding.setVariable('archiveArtifacts', { Map spec -> calls << [step: 'archiveArtifacts'] + spec })
    binding.setVariable('slackSend', { Map spec -> calls << [step: 'slackSend'] + spec })
    binding.setVariable('writeFile', { Map spec ->
        calls << [step: 'writeFile', file: spec.file, text: spec.text]
        resolve(spec.file as String).toFile().setText(spec.text as String, 'UTF-8')
    })
    binding.setVariable('readJSON', { Map spec ->
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
                error: error, returned: returned]
}
new File(args[1]).setText(JsonOutput.toJson(results), 'UTF-8')
