// The registered task types, by name. Everything that lists or looks up types (CREATE TASK's parser and
// validation, the engine when it plans or resumes a task) asks this registry, so that the list of types and
// the messages naming them follow from what is registered.
import { ENGINE_OPTIONS, type OptionDefs } from './task-options';
import type { TaskType } from './task-type';

export class TaskTypeRegistry {
  private readonly types = new Map<string, TaskType>();

  constructor(types: readonly TaskType[]) {
    for (const t of types) this.register(t);
  }

  register(type: TaskType): void {
    if (this.types.has(type.name)) throw new Error(`task type ${type.name} is registered twice`);
    const clash = Object.keys(type.options).find((k) => k in ENGINE_OPTIONS);
    if (clash) throw new Error(`task type ${type.name} redefines the engine option ${clash}`);
    this.types.set(type.name, type);
  }

  get(name: string): TaskType | undefined {
    return this.types.get(name);
  }

  /** Type names in the order they were registered. */
  names(): string[] {
    return [...this.types.keys()];
  }

  /** Every option a type takes: its own, then the engine's. */
  optionsOf(type: TaskType): OptionDefs {
    return { ...type.options, ...ENGINE_OPTIONS };
  }
}
